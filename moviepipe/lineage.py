"""Lineage from ``ops.run_log`` and the ``run_id`` every raw row carries.

A pipeline run (an Airflow DAG run, or one ``moviepipe run``) sets the session setting
``moviepipe.run_id`` for every connection of its steps (:func:`pg_options`); the run log
records it as ``pipeline_run_id`` (``moviepipe/sql/005_lineage.sql``)::

    moviepipe lineage RUN_ID          # per step: what it read, what it wrote, rows per table
    moviepipe lineage --movie 603     # which runs touched that movie, raw to gold
    moviepipe lineage --event UUID    # which runs touched that event

Only reads ``ops`` and ``raw`` (and checks whether the row reached silver/gold).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from moviepipe.config import Settings

# What each step reads; what it writes is counted from the rows carrying its run id.
STEP_READS = {
    "extract tmdb": "TMDB API",
    "extract mongo": "MongoDB raw.user_logs, raw.comments",
    "stream land": "Kafka event topics",
    "stream fallback": "Kafka event topics",
    "stream backup": "Kafka event topics",
    "stream promote-fallback": "raw.user_events_fallback",
    "supervisor": "ops.stream_heartbeat, Kafka offsets",
}
RAW_TABLES = (
    "raw.tmdb_movies",
    "raw.mongo_user_logs",
    "raw.mongo_comments",
    "raw.user_events",
    "raw.user_events_fallback",
    "raw.user_events_rejected",
)
_SAFE = re.compile(r"^[A-Za-z0-9_.:+\-T]+$")


def pg_options(run_id: str, existing: str | None = None) -> str:
    """``PGOPTIONS`` that tag every connection of a step with the pipeline run id."""
    if not _SAFE.match(run_id):
        raise ValueError(f"run id {run_id!r} has characters PGOPTIONS cannot carry")
    # libpq splits PGOPTIONS on spaces; `+` and `:` in Airflow's run ids are safe.
    return " ".join(filter(None, [existing, f"-c moviepipe.run_id={run_id}"]))


@dataclass
class StepLineage:
    run_id: str
    step: str
    status: str
    started_at: Any
    finished_at: Any
    reads: str
    writes: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def _steps(conn, where: str, params: tuple) -> list[StepLineage]:
    rows = conn.execute(
        "select run_id, step, status, started_at, finished_at, summary from ops.run_log"
        f" where {where} order by started_at",
        params,
    ).fetchall()
    steps = []
    for run_id, step, status, started, finished, summary in rows:
        writes = {}
        for table in RAW_TABLES:
            n = conn.execute(f"select count(*) from {table} where run_id = %s", (run_id,))
            count = n.fetchone()[0]
            if count:
                writes[table] = count
        steps.append(
            StepLineage(
                run_id,
                step,
                status,
                started,
                finished,
                STEP_READS.get(step, "-"),
                writes,
                summary or {},
            )
        )
    return steps


def run_lineage(settings: Settings, run_id: str) -> list[StepLineage]:
    """Every step of pipeline run ``run_id`` (or the one step with that run id)."""
    from moviepipe import db

    with db.connect(settings, "admin", autocommit=True) as conn:
        return _steps(conn, "pipeline_run_id = %s or run_id = %s", (run_id, run_id))


def row_lineage(settings: Settings, *, movie: int | None = None, event: str | None = None):
    """The runs that landed the movie or event in raw, with their pipeline runs' steps,
    and whether the row is in silver and gold now."""
    from moviepipe import db

    if movie is not None:
        raw_sql = "select run_id from raw.tmdb_movies where movie_id = %s"
        key: Any = movie
        later = [("silver.movies_curated", "movie_id"), ("gold.dim_movie", "movie_id")]
    else:
        raw_sql = (
            "select run_id from raw.user_events where event_id = %s::uuid union"
            " select run_id from raw.user_events_fallback where event_id = %s::uuid"
        )
        key = event
        later = [("gold.fact_user_event", "event_id")]
    with db.connect(settings, "admin", autocommit=True) as conn:
        params = (key,) if movie is not None else (key, key)
        raw_runs = [r[0] for r in conn.execute(raw_sql, params).fetchall()]
        steps = _steps(
            conn,
            "run_id = any(%s) or pipeline_run_id in (select pipeline_run_id from ops.run_log"
            " where run_id = any(%s) and pipeline_run_id is not null)",
            (raw_runs, raw_runs),
        )
        present = {}
        for table, column in later:
            exists = conn.execute("select to_regclass(%s)", (table,)).fetchone()[0]
            present[table] = bool(exists) and bool(
                conn.execute(
                    f"select 1 from {table} where {column}::text = %s limit 1", (str(key),)
                ).fetchone()
            )
    return raw_runs, steps, present
