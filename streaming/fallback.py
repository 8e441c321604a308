"""pandas fallback: Kafka -> raw.user_events_fallback when Spark is offline; and promotion.

``run_fallback`` consumes the same topics in its own consumer group, in chunks
of ``streaming.fallback.chunk_size`` messages (memory bounded by the chunk and
the consumer's prefetch queue, not by the backlog), validates them with
:func:`streaming.pandas_transforms.arrow_parse_validate`, writes one
transaction per chunk and commits the Kafka offsets only after the database.

Fallback rows are never merged automatically: ``promote_fallback(run_id)``
copies one run into raw.user_events, skipping events already there, and
records who, when and how many in ``ops.fallback_promotions``.

Usage::

    moviepipe stream fallback --available-now
    moviepipe stream promote-fallback fallback-20240601T120000Z-ab12cd34 [--by alice]
"""

from __future__ import annotations

import getpass
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import psycopg

from moviepipe import db, runlog
from moviepipe.config import Settings
from moviepipe.rules import Rules
from streaming import sink
from streaming.kafka_io import commit_chunk, iter_chunks, make_consumer, to_records
from streaming.pandas_transforms import arrow_parse_validate

log = logging.getLogger(__name__)
GROUP = "moviepipe-fallback"
SINK = "pandas.user_events_fallback"
PROMOTE_LOCK = 7_420_201


def run_fallback(
    settings: Settings,
    rules: Rules,
    *,
    available_now: bool,
    chunk_size: int | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    chunk_size = chunk_size or settings.tunables.streaming.fallback.chunk_size
    run_id = run_id or runlog.new_run_id("fallback")
    totals = {"chunks": 0, "rows_in": 0, "landed": 0, "rejected": 0}
    consumer = make_consumer(settings, GROUP)
    # One writer thread: while PostgreSQL lands chunk k (the thread waits on the server,
    # without the GIL), the main thread consumes and validates chunk k+1. Offsets of a chunk
    # are committed only after its database commit, in order, from the main thread.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fallback-writer")
    pending: tuple[Future, list] | None = None

    def finish(job: tuple[Future, list]) -> None:
        future, msgs = job
        result = future.result()  # the chunk's transaction has committed
        commit_chunk(consumer, msgs)  # after the database commit, never before
        sink.heartbeat(conn, SINK, totals["chunks"], result, None)
        totals["chunks"] += 1
        totals["rows_in"] += result.rows_in
        totals["landed"] += result.rows_landed
        totals["rejected"] += result.rows_rejected

    args = {"available_now": available_now, "chunk_size": chunk_size}
    with (
        db.connect(settings, "loader") as conn,
        db.connect(settings, "loader") as wconn,
        runlog.run(conn, run_id, "stream fallback", args) as run,
    ):
        run.summary = totals  # the same dict, as far as it got
        try:
            for msgs in iter_chunks(consumer, chunk_size, stop_at_end=available_now):
                valid, rejected = arrow_parse_validate(
                    to_records(msgs),
                    rules,
                    topic_prefix=settings.moviepipe_topic_prefix,
                )
                if pending is not None:
                    finish(pending)
                    pending = None
                future = pool.submit(
                    sink.write_batch,
                    wconn,
                    valid,
                    rejected,
                    table="raw.user_events_fallback",
                    run_id=run_id,
                    source_flag="pandas",
                    months_ahead=settings.tunables.partitions.months_ahead,
                )
                pending = (future, msgs)
            if pending is not None:
                finish(pending)
                pending = None
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM (streaming.cli): a clean stop
            if pending is not None:
                finish(pending)  # land what was handed to the writer, then stop
        finally:
            pool.shutdown(wait=True)
            consumer.close()
    return {"run_id": run_id, **totals}


def promote_fallback(
    settings: Settings, run_id: str, promoted_by: str | None = None
) -> dict[str, Any]:
    """Copy fallback run ``run_id`` into raw.user_events; safe to repeat (skips existing ids)."""
    promoted_by = promoted_by or getpass.getuser()
    cols = (
        "event_id, event_type, event_ts, user_id, session_id, movie_id, payload, kafka_topic,"
        " kafka_partition, kafka_offset, kafka_timestamp, run_id, source_flag"
    )
    with db.connect(settings, "loader") as conn:
        with conn.transaction():  # the run's months exist in raw.user_events first
            months = conn.execute(
                "select distinct date_trunc('month', event_ts, 'UTC')"
                " from raw.user_events_fallback where run_id = %s",
                (run_id,),
            ).fetchall()
        ahead = settings.tunables.partitions.months_ahead
        sink.ensure_months(conn, "raw.user_events", [m for (m,) in months], ahead)
        with conn.transaction():
            return _promote(conn, run_id, promoted_by, cols)


def _promote(conn: psycopg.Connection, run_id: str, promoted_by: str, cols: str) -> dict[str, Any]:
    """Promote ``run_id`` inside the caller's transaction, one promoter at a time."""
    conn.execute("select pg_advisory_xact_lock(%s)", (PROMOTE_LOCK,))
    total = conn.execute(
        "select count(*) from raw.user_events_fallback where run_id = %s", (run_id,)
    ).fetchone()[0]
    if total == 0:
        raise LookupError(f"no fallback rows for run {run_id}")
    promoted = conn.execute(
        f"insert into raw.user_events ({cols}) select {cols} from raw.user_events_fallback"
        f" where run_id = %s on conflict ({', '.join(sink.EVENT_KEY)}) do nothing",
        (run_id,),
    ).rowcount
    conn.execute(
        "insert into ops.fallback_promotions"
        " (fallback_run_id, promoted_by, rows_promoted, rows_skipped) values (%s, %s, %s, %s)",
        (run_id, promoted_by, promoted, total - promoted),
    )
    return {
        "run_id": run_id,
        "promoted_by": promoted_by,
        "rows_promoted": promoted,
        "rows_skipped": total - promoted,
    }
