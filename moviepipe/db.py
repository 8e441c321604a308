"""PostgreSQL access: connections per role, and the warehouse bootstrap.

``bootstrap`` makes a database ready for the pipeline, idempotently:

* the three least-privilege login roles (loader, transformer, reader);
* the layer schemas (``raw``, ``staging``, ``silver``, ``gold``, ``ops``, ...);
* grants, including default privileges so tables created later inherit them;
* the versioned DDL in ``moviepipe/sql/NNN_*.sql`` (bronze and ops tables),
  recorded in ``ops.schema_migrations``.

Usage::

    from moviepipe.db import bootstrap, connect
    bootstrap(settings)                      # as PGUSER, the owner
    with connect(settings, "loader") as conn:
        conn.execute("insert into raw.tmdb_movies ...")
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql

from moviepipe.config import ROLES, Role, Settings

MIGRATION_LOCK_ID = 7_420_001  # pg_advisory_lock key: one bootstrap at a time per database
LOADER_SCHEMAS = ("raw", "ops")
# gold_build and gold_previous are the blue/green versions of gold (quality/publish.py);
# seeds holds dbt's reference data.
MODEL_SCHEMAS = ("staging", "silver", "gold", "gold_build", "gold_previous", "seeds", "snapshots")


def connect(settings: Settings, role: Role = "admin", dbname: str | None = None, **kwargs: Any):
    """A psycopg connection as ``role``; the caller owns the transaction."""
    return psycopg.connect(**settings.pg_conninfo(role, dbname), **kwargs)


def migrations() -> list[tuple[str, str]]:
    """``(version, sql)`` for every packaged migration, in order."""
    files = sorted(
        (f for f in resources.files("moviepipe.sql").iterdir() if f.name.endswith(".sql")),
        key=lambda f: f.name,
    )
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


def _ensure_roles(conn: psycopg.Connection, settings: Settings) -> None:
    for role in ROLES:
        if role == "admin":
            continue
        name = settings.role_user(role)
        password = settings.role_password(role)
        if not password:
            raise RuntimeError(
                f"no password for role {role}: set MOVIEPIPE_{role.upper()}_PASSWORD "
                "or run `moviepipe services up` to generate one"
            )
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(
            sql.SQL("{} role {} login password {} nosuperuser nocreatedb nocreaterole").format(
                sql.SQL(verb), sql.Identifier(name), sql.Literal(password)
            )
        )


def _ensure_database(conn: psycopg.Connection, dbname: str) -> None:
    exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def _create_schemas(settings: Settings, schemas: list[str]) -> list[sql.Composable]:
    admin = sql.Identifier(settings.role_user("admin"))
    return [
        sql.SQL("create schema if not exists {} authorization {}").format(sql.Identifier(s), admin)
        for s in schemas
    ]


def _grants(settings: Settings, schemas: list[str], dbname: str) -> list[sql.Composable]:
    ident = sql.Identifier
    admin = ident(settings.role_user("admin"))
    loader = ident(settings.role_user("loader"))
    transformer = ident(settings.role_user("transformer"))
    reader = ident(settings.role_user("reader"))
    db = ident(dbname)
    stmts: list[sql.Composable] = [
        sql.SQL("revoke all on database {} from public").format(db),
        sql.SQL("grant connect on database {} to {}, {}, {}").format(
            db, loader, transformer, reader
        ),
        sql.SQL("grant temporary on database {} to {}, {}").format(db, loader, transformer),
        sql.SQL("revoke create on schema public from public"),
    ]
    for schema in schemas:
        stmts.append(sql.SQL("revoke all on schema {} from public").format(ident(schema)))
    for schema in LOADER_SCHEMAS:
        s = ident(schema)
        stmts += [
            sql.SQL("grant usage, create on schema {} to {}").format(s, loader),
            sql.SQL("grant select, insert, update, delete on all tables in schema {} to {}").format(
                s, loader
            ),
            sql.SQL("grant usage, select on all sequences in schema {} to {}").format(s, loader),
            # raw.ensure_month_partitions: the loader creates the months it lands in.
            sql.SQL("grant execute on all functions in schema {} to {}").format(s, loader),
            sql.SQL("grant usage on schema {} to {}").format(s, transformer),
            sql.SQL("grant select on all tables in schema {} to {}").format(s, transformer),
        ]
        for owner in (admin, loader):
            stmts += [
                sql.SQL(
                    "alter default privileges for role {} in schema {} "
                    "grant select, insert, update, delete on tables to {}"
                ).format(owner, s, loader),
                sql.SQL(
                    "alter default privileges for role {} in schema {} "
                    "grant usage, select on sequences to {}"
                ).format(owner, s, loader),
                sql.SQL(
                    "alter default privileges for role {} in schema {} grant select on tables to {}"
                ).format(owner, s, transformer),
            ]
    for schema in MODEL_SCHEMAS:
        if schema not in schemas:
            continue
        s = ident(schema)
        stmts.append(sql.SQL("grant usage, create on schema {} to {}").format(s, transformer))
    # The reader sees gold only, including tables dbt creates later, plus the two
    # functions that tell the API's /health the last gate and publish (006_health.sql).
    stmts += [
        sql.SQL("grant usage on schema health to {}").format(reader),
        sql.SQL("grant execute on all functions in schema health to {}").format(reader),
        sql.SQL("grant usage on schema gold to {}").format(reader),
        sql.SQL("grant select on all tables in schema gold to {}").format(reader),
        sql.SQL(
            "alter default privileges for role {} in schema gold grant select on tables to {}"
        ).format(transformer, reader),
        sql.SQL(
            "alter default privileges for role {} in schema gold grant select on tables to {}"
        ).format(admin, reader),
    ]
    return stmts


def apply_migrations(conn: psycopg.Connection) -> list[str]:
    """Apply unapplied migrations in one transaction each; returns the versions applied."""
    conn.execute(
        "create table if not exists ops.schema_migrations ("
        " version text primary key, checksum text not null,"
        " applied_at timestamptz not null default now())"
    )
    done = {v: c for v, c in conn.execute("select version, checksum from ops.schema_migrations")}
    applied = []
    for version, text in migrations():
        checksum = hashlib.sha256(text.encode()).hexdigest()
        if version in done:
            if done[version] != checksum:
                raise RuntimeError(
                    f"migration {version} changed after it was applied; add a new migration instead"
                )
            continue
        with conn.transaction():
            conn.execute(text)  # type: ignore[arg-type]  # trusted, packaged DDL
            conn.execute(
                "insert into ops.schema_migrations (version, checksum) values (%s, %s)",
                (version, checksum),
            )
        applied.append(version)
    return applied


def bootstrap(settings: Settings, dbname: str | None = None) -> list[str]:
    """Create roles, database, schemas, grants and tables; safe to repeat."""
    dbname = dbname or settings.pgdatabase
    schemas = list(settings.tunables.postgres.schemas)
    with connect(settings, "admin", dbname="postgres", autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
        try:
            _ensure_roles(conn, settings)
            _ensure_database(conn, dbname)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
    with connect(settings, "admin", dbname=dbname, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
        try:
            for stmt in _create_schemas(settings, schemas):
                conn.execute(stmt)
            applied = apply_migrations(conn)
            # After the migrations, so the tables they just created get the grants too.
            for stmt in _grants(settings, schemas, dbname):
                conn.execute(stmt)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
    return applied


def drop_database(settings: Settings, dbname: str) -> None:
    with connect(settings, "admin", dbname="postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
        )
