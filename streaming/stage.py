"""Per-batch staging: the executors COPY a micro-batch, the driver lands it in one transaction.

Each task of micro-batch *b* classifies its partition
(:func:`streaming.transforms.validate_batches`) and COPYs the valid rows and the
dead letters into two UNLOGGED tables of its own, ``ops.stage_<sink>_<b>_<task>_v``
and ``..._r``, created, filled and committed in one transaction that first drops
them: a task Spark retries replaces its tables, it never adds to them. Temporary
tables would not do: they belong to one session, and the driver's is another.

After the tasks, :func:`land_staged` (on the driver) claims ``(sink, b)`` in
``ops.stream_batches``, moves every stage into raw.user_events and
raw.user_events_rejected (``on conflict do nothing``), records the counts and drops
the stages, all in one transaction: a replayed batch finds its claim and only
drops what its tasks staged again.

Usage::

    task = StageTask(conninfo, rules, topic_prefix, stage_prefix(sink_key, batch_id))
    stages = [r.stage for r in batch_df.mapInArrow(task, STAGED_SCHEMA).collect()]
    result = land_staged(conn, stages, sink=sink_key, batch_id=batch_id,
                         run_id=run_id, source_flag="spark")
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from moviepipe.events import REJECTED_COLUMNS, VALID_COLUMNS
from moviepipe.rules import Rules
from streaming import sink
from streaming.transforms import validate_batches

SCHEMA = "ops"
STAGED_SCHEMA = "task int, stage string, rows_valid bigint, rows_rejected bigint"


def stage_prefix(sink_key: str, batch_id: int) -> str:
    """``stage_<10 hex of the sink>_<batch>``: short enough for PostgreSQL's 63 bytes."""
    return f"stage_{_tag(sink_key)}_{batch_id}"


def _tag(sink_key: str) -> str:
    return hashlib.sha1(sink_key.encode()).hexdigest()[:10]


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(SCHEMA, name)


def _cols(names) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in names)


def _create(cur: psycopg.Cursor, stage: str) -> None:
    for suffix, source, names in (("_v", "user_events", VALID_COLUMNS),
                                  ("_r", "user_events_rejected", REJECTED_COLUMNS)):  # fmt: skip
        cur.execute(sql.SQL("drop table if exists {}").format(_ident(stage + suffix)))
        # No constraints, no WAL: the driver's move is where uniqueness is decided.
        cur.execute(
            sql.SQL("create unlogged table {} as select {} from {} with no data").format(
                _ident(stage + suffix), _cols(names), sql.Identifier("raw", source)
            )
        )


def _copy_rejected(cur: psycopg.Cursor, stage: str, rejected) -> None:
    frame = rejected[list(REJECTED_COLUMNS)].astype(object).where(rejected.notna(), None)
    query = sql.SQL("copy {} ({}) from stdin").format(_ident(stage + "_r"), _cols(REJECTED_COLUMNS))
    with cur.copy(query) as cp:
        for row in frame.itertuples(index=False, name=None):
            cp.write_row(row)


@dataclass(frozen=True)
class StageTask:
    """The ``mapInArrow`` function of the landing: classify a partition, COPY it to its stage.

    ``conninfo`` holds the loader's libpq settings, made on the driver (executors read
    no environment); it travels inside the task and is never logged.
    """

    conninfo: dict[str, Any] = field(repr=False)
    rules: Rules
    topic_prefix: str
    prefix: str

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        task = TaskContext.get().partitionId()
        stage = f"{self.prefix}_{task}"
        n_valid = n_rejected = 0
        with psycopg.connect(**self.conninfo) as conn, conn.cursor() as cur:
            _create(cur, stage)
            for valid, rejected in validate_batches(batches, self.rules, None, self.topic_prefix):
                if valid.num_rows:
                    sink.copy_rows(cur, _ident(stage + "_v"), valid.select(list(VALID_COLUMNS)))
                if len(rejected):
                    _copy_rejected(cur, stage, rejected)
                n_valid += valid.num_rows
                n_rejected += len(rejected)
        # committed: the stage is complete before Spark counts the task done
        yield pa.RecordBatch.from_pylist(
            [{"task": task, "stage": stage, "rows_valid": n_valid, "rows_rejected": n_rejected}],
            schema=pa.schema([("task", pa.int32()), ("stage", pa.string()),
                              ("rows_valid", pa.int64()), ("rows_rejected", pa.int64())]),
        )  # fmt: skip


def _union(stages: list[str], suffix: str, names) -> sql.Composable:
    return sql.SQL(" union all ").join(
        sql.SQL("select {} from {}").format(_cols(names), _ident(s + suffix)) for s in stages
    )


def _move(cur: psycopg.Cursor, stages: list[str], run_id: str, source_flag: str) -> tuple[int, int]:
    """Stages into the event and dead-letter tables; returns (landed, rejected)."""
    counts = []
    for target, suffix, names, key in (
        ("user_events", "_v", VALID_COLUMNS, sql.SQL("({})").format(_cols(sink.EVENT_KEY))),
        ("user_events_rejected", "_r", REJECTED_COLUMNS, sql.SQL("")),
    ):
        cur.execute(
            sql.SQL(
                "insert into {} ({}, run_id, source_flag) select {}, %s, %s from ({}) s"
                " on conflict {} do nothing"
            ).format(
                sql.Identifier("raw", target),
                _cols(names),
                _cols(names),
                _union(stages, suffix, names),
                key,
            ),
            (run_id, source_flag),
        )
        counts.append(cur.rowcount)
    return counts[0], counts[1]


def drop_stages(cur: psycopg.Cursor, stages: list[str]) -> None:
    for s in stages:
        for suffix in ("_v", "_r"):
            cur.execute(sql.SQL("drop table if exists {}").format(_ident(s + suffix)))


def stale_stages(conn: psycopg.Connection, sink_key: str, below: int) -> list[str]:
    """Stages of ``sink_key`` from batches before ``below`` (left by a run that died)."""
    rows = conn.execute(
        "select tablename from pg_tables where schemaname = %s and tablename like %s",
        (SCHEMA, f"stage\\_{_tag(sink_key)}\\_%\\_v"),
    ).fetchall()
    out = []
    for (name,) in rows:
        batch = int(name.split("_")[2])
        if batch < below:
            out.append(name.removesuffix("_v"))
    return out


def ensure_months(conn: psycopg.Connection, stages: list[str], months_ahead: int) -> None:
    """The month partitions the staged rows need, each in a short transaction of its own
    (:func:`streaming.sink.ensure_months`), before the batch's transaction."""
    for table, suffix, key in (("raw.user_events", "_v", "event_ts"),
                               (sink.REJECTED_TABLE, "_r", "kafka_timestamp")):  # fmt: skip
        with conn.transaction():
            months = conn.execute(
                sql.SQL("select distinct date_trunc('month', {}, 'UTC') from ({}) s").format(
                    sql.Identifier(key), _union(stages, suffix, [key])
                )
            ).fetchall()
        sink.ensure_months(conn, table, [m for (m,) in months if m is not None], months_ahead)


def land_staged(
    conn: psycopg.Connection,
    stages: list[str],
    *,
    rows_in: int,
    sink_key: str,
    batch_id: int,
    run_id: str,
    source_flag: str,
    months_ahead: int = sink.MONTHS_AHEAD,
) -> sink.BatchResult:
    """Claim ``(sink_key, batch_id)``, move ``stages`` in, drop them: one transaction."""
    if stages:
        ensure_months(conn, stages, months_ahead)
    with conn.transaction(), conn.cursor() as cur:
        claimed = sink.claim_batch(conn, sink_key, batch_id, rows_in)
        result = sink.BatchResult(rows_in, 0, 0, replayed=True)
        if claimed and stages:
            landed, rejected = _move(cur, stages, run_id, source_flag)
            sink.record_batch(conn, sink_key, batch_id, landed, rejected)
            result = sink.BatchResult(rows_in, landed, rejected)
        elif claimed:
            result = sink.BatchResult(rows_in, 0, 0)
        drop_stages(cur, stages)
    return result
