"""Blue/green publish of gold: one transaction renames the build schema to ``gold``.

Three physical schemas rotate through three names (the names are roles, the
schemas' OIDs are the versions):

* ``gold`` — published; the only one the reader role may use;
* ``gold_previous`` — the version published before, kept for ``--rollback``;
* ``gold_build`` — where dbt builds the next candidate.

``publish`` renames ``gold`` -> ``gold_previous``, ``gold_build`` -> ``gold`` and the
old ``gold_previous`` -> ``gold_build`` (it keeps its own incremental state and
catches up from raw on the next build). ``rollback`` swaps ``gold`` and
``gold_previous``. In the same transaction: the reader's usage and select move to
the new ``gold`` (with default privileges), views that read the old gold are
re-created over the new one, and the ops.publish_log row is written. Every table
of both schemas is locked first with a short ``lock_timeout``, retried, so a
reader sees the old or the new gold and never a mix, and a long reader never
blocks the publish forever. Killing the process at any point leaves one gold.

Usage::

    from quality.publish import publish, rollback
    result = publish(settings, run_id="r1", echo=print)
    rollback(settings)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from moviepipe import db
from moviepipe.config import Settings

PUBLISHED, PREVIOUS, BUILD = "gold", "gold_previous", "gold_build"
SWAP = "gold_swap"  # transient name, never visible outside the transaction
PUBLISH_LOCK_ID = 7_420_010  # pg_advisory_xact_lock key: one publish at a time
LOCK_TIMEOUT_MS = 50
MAX_ATTEMPTS = 40


class PublishError(RuntimeError):
    """The publish could not happen; gold is unchanged."""


@dataclass(frozen=True)
class PublishResult:
    action: str
    attempts: int
    lock_wait_ms: float
    swap_ms: float
    published_oid: int


def _tables(conn: psycopg.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm') order by c.relname",
        (schema,),
    ).fetchall()
    return [r[0] for r in rows]


def _dependent_views(conn: psycopg.Connection, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    """Views outside ``schemas`` that read a relation inside them: ``(qualified name, sql)``.

    A view binds to table OIDs, so after the rename it would read gold_previous;
    its definition, printed with schema-qualified names, is re-run after the swap.
    """
    rows = conn.execute(
        """
        select distinct format('%%I.%%I', vn.nspname, v.relname), pg_get_viewdef(v.oid)
        from pg_depend d
        join pg_rewrite r on r.oid = d.objid
        join pg_class v on v.oid = r.ev_class
        join pg_namespace vn on vn.oid = v.relnamespace
        join pg_class t on t.oid = d.refobjid
        join pg_namespace tn on tn.oid = t.relnamespace
        where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
          and tn.nspname = any(%s) and vn.nspname <> all(%s) and v.oid <> t.oid
        """,
        (list(schemas), list(schemas)),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _grant_reader(settings: Settings) -> list[sql.Composable]:
    reader = sql.Identifier(settings.role_user("reader"))
    gold, prev = sql.Identifier(PUBLISHED), sql.Identifier(PREVIOUS)
    stmts: list[sql.Composable] = [
        sql.SQL("grant usage on schema {} to {}").format(gold, reader),
        sql.SQL("grant select on all tables in schema {} to {}").format(gold, reader),
        # Revoking select on the old tables also invalidates readers' cached plans.
        sql.SQL("revoke select on all tables in schema {} from {}").format(prev, reader),
        sql.SQL("revoke usage on schema {} from {}").format(prev, reader),
    ]
    for owner in ("transformer", "admin"):
        stmts.append(
            sql.SQL(
                "alter default privileges for role {} in schema {} grant select on tables to {}"
            ).format(sql.Identifier(settings.role_user(owner)), gold, reader)
        )
    return stmts


def _renames(action: str) -> list[tuple[str, str]]:
    if action == "publish":
        return [(PUBLISHED, SWAP), (PREVIOUS, BUILD + "_next"), (BUILD, PUBLISHED),
                (SWAP, PREVIOUS), (BUILD + "_next", BUILD)]  # fmt: skip
    return [(PUBLISHED, SWAP), (PREVIOUS, PUBLISHED), (SWAP, PREVIOUS)]


def _swap(
    conn: psycopg.Connection,
    settings: Settings,
    action: str,
    run_id: str | None,
    attempts: int,
    lock_wait_ms: float,
    before_commit: Callable[[], None] | None,
) -> int:
    source = BUILD if action == "publish" else PREVIOUS
    for schema in (PUBLISHED, source):
        if conn.execute("select to_regnamespace(%s)", (schema,)).fetchone()[0] is None:
            raise PublishError(f"schema {schema} does not exist: run `moviepipe transform`")
    if action == "publish" and not _tables(conn, BUILD):
        raise PublishError(f"{BUILD} is empty: run `moviepipe transform` first")
    if action == "rollback" and not _tables(conn, PREVIOUS):
        raise PublishError(f"{PREVIOUS} is empty: there is no previous version to roll back to")
    views = _dependent_views(conn, (PUBLISHED, source))
    for old, new in _renames(action):
        conn.execute(
            sql.SQL("alter schema {} rename to {}").format(sql.Identifier(old), sql.Identifier(new))
        )
    for name, definition in views:
        conn.execute(
            sql.SQL("create or replace view {} as ").format(sql.SQL(name)) + sql.SQL(definition)
        )  # type: ignore[arg-type]
    for stmt in _grant_reader(settings):
        conn.execute(stmt)
    oids = {
        s: conn.execute("select to_regnamespace(%s)::oid", (s,)).fetchone()[0]
        for s in (PUBLISHED, PREVIOUS, BUILD)
    }
    conn.execute(
        "insert into ops.publish_log (run_id, action, published_oid, previous_oid, build_oid,"
        " attempts, lock_wait_ms) values (%s, %s, %s, %s, %s, %s, %s)",
        (run_id, action, oids[PUBLISHED], oids[PREVIOUS], oids[BUILD], attempts, lock_wait_ms),
    )
    if before_commit:
        before_commit()
    return oids[PUBLISHED]


def _lock_all(conn: psycopg.Connection, schemas: tuple[str, ...]) -> None:
    names = [
        sql.SQL("{}.{}").format(sql.Identifier(s), sql.Identifier(t))
        for s in schemas
        for t in _tables(conn, s)
    ]
    if names:
        conn.execute(
            sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(names))
        )


def swap_schemas(
    settings: Settings,
    action: str = "publish",
    *,
    run_id: str | None = None,
    echo: Callable[[str], None] = lambda _msg: None,
    lock_timeout_ms: int = LOCK_TIMEOUT_MS,
    max_attempts: int = MAX_ATTEMPTS,
    before_commit: Callable[[], None] | None = None,
) -> PublishResult:
    """Publish the build (``action="publish"``) or swap back (``"rollback"``), atomically.

    Retries when a reader holds a lock past ``lock_timeout_ms``, saying so through
    ``echo``; raises :class:`PublishError` after ``max_attempts`` (gold unchanged).
    """
    source = BUILD if action == "publish" else PREVIOUS
    waited = 0.0
    with db.connect(settings, "admin") as conn:
        for attempt in range(1, max_attempts + 1):
            start = time.monotonic()
            try:
                with conn.transaction():
                    conn.execute("select pg_advisory_xact_lock(%s)", (PUBLISH_LOCK_ID,))
                    conn.execute("set local search_path = pg_catalog")
                    conn.execute(f"set local lock_timeout = '{int(lock_timeout_ms)}ms'")
                    _lock_all(conn, (PUBLISHED, source))
                    locked = time.monotonic()
                    oid = _swap(
                        conn, settings, action, run_id, attempt,
                        round(waited + (locked - start) * 1000, 1), before_commit,
                    )  # fmt: skip
                swap_ms = (time.monotonic() - locked) * 1000
                echo(f"{action}: gold is now schema oid {oid} (attempt {attempt}, "
                     f"swap {swap_ms:.1f} ms)")  # fmt: skip
                return PublishResult(action, attempt, waited, swap_ms, oid)
            except psycopg.errors.LockNotAvailable:
                waited += (time.monotonic() - start) * 1000
                echo(
                    f"{action}: a reader holds a lock on gold; lock_timeout {lock_timeout_ms} ms "
                    f"reached, retrying ({attempt}/{max_attempts})"
                )
                time.sleep(min(0.05 * attempt, 0.5))
    raise PublishError(
        f"{action} gave up after {max_attempts} attempts: readers kept locks on gold; "
        "gold is unchanged"
    )


def publish(settings: Settings, **kwargs) -> PublishResult:
    """Publish ``gold_build`` as ``gold`` (see :func:`swap_schemas`)."""
    return swap_schemas(settings, "publish", **kwargs)


def rollback(settings: Settings, **kwargs) -> PublishResult:
    """Swap ``gold_previous`` back as ``gold`` (see :func:`swap_schemas`)."""
    return swap_schemas(settings, "rollback", **kwargs)
