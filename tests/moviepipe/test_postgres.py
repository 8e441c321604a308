"""PostgreSQL: the three roles exist and hold only the privileges they need."""

from __future__ import annotations

import psycopg
import pytest

from moviepipe import db

pytestmark = pytest.mark.integration


def test_each_role_can_connect(pg_settings):
    for role in ("admin", "loader", "transformer", "reader"):
        with db.connect(pg_settings, role) as conn:
            user = conn.execute("select current_user").fetchone()[0]
        assert user == pg_settings.role_user(role)


def test_layer_schemas_exist(pg_settings):
    with db.connect(pg_settings) as conn:
        found = {r[0] for r in conn.execute("select nspname from pg_namespace")}
    assert {"raw", "staging", "silver", "gold", "ops"} <= found


def test_loader_writes_raw_and_ops_but_not_gold(pg_settings):
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        conn.execute(
            "insert into raw.tmdb_movies (movie_id, payload, payload_hash, run_id)"
            " values (1, '{}', 'h-loader', 'test')"
        )
        conn.execute("insert into ops.bookmarks (name, value) values ('test.loader', '1')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create table gold.loader_was_here (x int)")


def test_transformer_reads_raw_and_writes_model_schemas(pg_settings):
    with db.connect(pg_settings, "transformer", autocommit=True) as conn:
        conn.execute("select count(*) from raw.tmdb_movies").fetchone()
        conn.execute("create table gold.transformer_probe as select 1 as x")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "insert into raw.tmdb_movies (movie_id, payload, payload_hash, run_id)"
                " values (2, '{}', 'h-transformer', 'test')"
            )
    # The reader sees what the transformer publishes in gold, through default privileges.
    with db.connect(pg_settings, "reader", autocommit=True) as conn:
        assert conn.execute("select x from gold.transformer_probe").fetchone() == (1,)
    with db.connect(pg_settings, "transformer", autocommit=True) as conn:
        conn.execute("drop table gold.transformer_probe")


@pytest.mark.parametrize(
    "statement",
    [
        "create table gold.reader_was_here (x int)",
        "create table raw.reader_was_here (x int)",
        "create table public.reader_was_here (x int)",
        "insert into ops.bookmarks (name, value) values ('reader', '1')",
        "select count(*) from raw.tmdb_movies",
    ],
)
def test_reader_cannot_write_or_read_outside_gold(pg_settings, statement):
    with (
        db.connect(pg_settings, "reader", autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)


def test_bootstrap_is_idempotent(pg_settings):
    assert db.bootstrap(pg_settings) == []  # nothing left to apply the second time
    with db.connect(pg_settings) as conn:
        versions = [r[0] for r in conn.execute("select version from ops.schema_migrations")]
    assert versions == [v for v, _ in db.migrations()]
