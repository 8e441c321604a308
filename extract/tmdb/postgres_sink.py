"""The PostgreSQL sink: ``raw.tmdb_movies`` and ``ops.extract_errors``, as the loader role.

``raw.tmdb_movies`` keeps each movie's history: ``on conflict (movie_id, payload_hash) do
nothing``, so the same payload adds nothing and a changed one adds a row. Missing and failed
ids (and listing pages) go to ``ops.extract_errors``, one row per entity and run. The
functions run in the caller's transaction.

Usage::

    with conn.transaction(), conn.cursor() as cur:
        inserted = insert_movies(cur, rows, run_id, now)   # ids new to PostgreSQL
        insert_errors(cur, outcomes, run_id)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from extract.pg import insert_returning
from extract.tmdb.client import TmdbError
from extract.tmdb.records import SOURCE, SOURCE_FLAG, Outcome, Row


def insert_movies(cur: psycopg.Cursor, rows: list[Row], run_id: str, now: datetime) -> set[int]:
    """Insert the payloads; the ids whose payload was new (an unchanged one adds nothing)."""
    if not rows:
        return set()
    return set(
        insert_returning(
            cur,
            "insert into raw.tmdb_movies (movie_id, payload, payload_hash, ingested_at,"
            " run_id, source_flag) values (%s, %s, %s, %s, %s, %s)"
            " on conflict (movie_id, payload_hash) do nothing returning movie_id",
            [(mid, Jsonb(p), h, now, run_id, SOURCE_FLAG) for mid, p, h in rows],
        )
    )


def insert_errors(cur: psycopg.Cursor, outcomes: Iterable[Outcome], run_id: str) -> None:
    """Record the ``missing`` and ``failed`` outcomes (the last word per id and run wins)."""
    errors = [
        (SOURCE, str(o.movie_id), run_id, o.kind, o.status_code, o.message)
        for o in outcomes
        if o.kind in ("missing", "failed")
    ]
    if errors:
        cur.executemany(
            "insert into ops.extract_errors (source, entity_id, run_id, kind, status_code,"
            " message) values (%s, %s, %s, %s, %s, %s)"
            " on conflict (source, entity_id, run_id) do update set kind = excluded.kind,"
            " status_code = excluded.status_code, message = excluded.message,"
            " recorded_at = now()",
            errors,
        )


def record_list_failure(conn: psycopg.Connection, run_id: str, entity: str, exc: TmdbError) -> None:
    """Record a listing page that failed (``entity`` such as ``discover/movie:page=3``)."""
    conn.execute(
        "insert into ops.extract_errors (source, entity_id, run_id, kind, status_code, message)"
        " values (%s, %s, %s, 'failed', %s, %s) on conflict do nothing",
        (SOURCE, entity, run_id, exc.status, str(exc)),
    )
