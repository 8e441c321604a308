"""Run log and bookmarks: the one place that writes ``ops.run_log`` and ``ops.bookmarks``.

Every step (extractors, streaming sinks) logs one row per run in ``ops.run_log`` and keeps
its incremental position as a named text value in ``ops.bookmarks`` (tables in
``moviepipe/sql/002_ops.sql``). The functions take an open psycopg connection; the caller
owns the connection.

Usage::

    from moviepipe import db, runlog

    run_id = runlog.new_run_id("tmdb")
    with db.connect(settings, "loader", autocommit=True) as conn:
        runlog.start_run(conn, run_id, "extract tmdb", {"changes": True})
        mark = runlog.get_bookmark(conn, "tmdb.changes")
        ...
        with conn.transaction():  # the bookmark moves only with a logged finish
            runlog.finish_run(conn, run_id, "succeeded", {"fetched": 42})
            runlog.set_bookmark(conn, "tmdb.changes", "2026-11-22", run_id)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb

Status = Literal["running", "succeeded", "failed", "partial"]


def new_run_id(kind: str) -> str:
    """A sortable, unique run id such as ``tmdb-20261122T021500Z-1a2b3c4d``."""
    return f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def start_run(conn: psycopg.Connection, run_id: str, step: str, args: dict[str, Any]) -> None:
    """Log a run as ``running``; starting the same ``run_id`` again changes nothing."""
    # Its own transaction (a savepoint inside the caller's): the run is visible even if
    # the work that follows is rolled back.
    with conn.transaction():
        conn.execute(
            "insert into ops.run_log (run_id, step, args) values (%s, %s, %s)"
            " on conflict (run_id) do nothing",
            (run_id, step, Jsonb(args)),
        )


def finish_run(
    conn: psycopg.Connection,
    run_id: str,
    status: Status | str,
    summary: dict[str, Any],
    error: str | None = None,
) -> None:
    """Record the end of a run: its final status, summary and error (if any)."""
    with conn.transaction():
        conn.execute(
            "update ops.run_log set finished_at = now(), status = %s, summary = %s, error = %s"
            " where run_id = %s",
            (status, Jsonb(summary), error, run_id),
        )


def get_bookmark(conn: psycopg.Connection, name: str) -> str | None:
    """The bookmark's value, or ``None`` if it was never set."""
    row = conn.execute("select value from ops.bookmarks where name = %s", (name,)).fetchone()
    return row[0] if row else None


def set_bookmark(conn: psycopg.Connection, name: str, value: str, run_id: str | None) -> None:
    """Create or overwrite a bookmark; runs in the caller's transaction, so it can be
    committed together with the rows it marks."""
    conn.execute(
        "insert into ops.bookmarks (name, value, run_id) values (%s, %s, %s)"
        " on conflict (name) do update set value = excluded.value, run_id = excluded.run_id,"
        " updated_at = now()",
        (name, value, run_id),
    )
