"""A landing task: classify one partition of a micro-batch and land it, in a transaction of its own.

Each task of micro-batch *b* (``batch_df.coalesce(cores).mapInArrow(LandTask(...))``)
classifies its rows (:func:`streaming.transforms.validate_batches`) and lands them
with :func:`streaming.sink.write_batch`: the months they need first, then one
transaction that claims ``(sink, b, the Kafka offset ranges the task holds)`` in
``ops.stream_batch_tasks`` and lands the valid rows in raw.user_events (one COPY, or
a merge where an event is already there) and the dead letters in
raw.user_events_rejected. The tasks land in parallel while the driver waits; only
one row of counts per task reaches it.

A task Spark retries, or replays after a crash, holds the same ranges and finds its
claim. One holding other ranges (a replay grouped differently) lands only what is
not there yet: the event key and the dead letters' coordinates are unique.

After the tasks, the driver (:func:`finish_batch`) claims ``(sink, b)`` in
``ops.stream_batches`` with the counts of the tasks' claims, and deletes those, in
one transaction. A batch replayed after that finds its claim and counts as replayed.

Usage::

    task = LandTask(conninfo, rules, topic_prefix, sink_key, batch_id, run_id)
    rows = batch_df.coalesce(cores).mapInArrow(task, RESULT_SCHEMA).collect()
    result = finish_batch(conn, sink_key, batch_id, rows_in=sum(r.rows_in for r in rows))
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa

from moviepipe.events import REJECTED_COLUMNS
from moviepipe.rules import Rules
from streaming import sink
from streaming.pandas_transforms import VALID_SCHEMA
from streaming.transforms import validate_batches

RESULT_SCHEMA = (
    "task int, rows_in bigint, rows_landed bigint, rows_rejected bigint, replayed boolean"
)
_RESULT_ARROW = pa.schema([("task", pa.int32()), ("rows_in", pa.int64()),
                           ("rows_landed", pa.int64()), ("rows_rejected", pa.int64()),
                           ("replayed", pa.bool_())])  # fmt: skip
_COORDS = ["kafka_topic", "kafka_partition", "kafka_offset"]


def offset_ranges(valid: pa.Table, rejected: pd.DataFrame) -> str:
    """``topic:partition:first-last`` per Kafka partition of the rows, sorted, comma-separated."""
    coords = pd.concat(
        [valid.select(_COORDS).to_pandas(), rejected[_COORDS]], ignore_index=True
    ).astype({"kafka_partition": "int64", "kafka_offset": "int64"})
    if coords.empty:
        return ""
    spans = coords.groupby(["kafka_topic", "kafka_partition"])["kafka_offset"].agg(["min", "max"])
    return ",".join(f"{t}:{p}:{lo}-{hi}" for (t, p), (lo, hi) in spans.sort_index().iterrows())


def land_partition(
    conn: psycopg.Connection,
    valid: pa.Table,
    rejected: pd.DataFrame,
    *,
    sink_key: str,
    batch_id: int,
    run_id: str,
    months_ahead: int = sink.MONTHS_AHEAD,
) -> sink.BatchResult:
    """One task's rows, claimed by their offset ranges and landed in one transaction."""
    ranges = offset_ranges(valid, rejected)
    if not ranges:
        return sink.BatchResult(0, 0, 0)
    return sink.write_batch(
        conn, valid, rejected, table="raw.user_events", run_id=run_id, source_flag="spark",
        sink=sink_key, batch_id=batch_id, months_ahead=months_ahead, offset_ranges=ranges,
    )  # fmt: skip


@dataclass(frozen=True)
class LandTask:
    """The ``mapInArrow`` function of the landing: classify a partition and land it.

    ``conninfo`` holds the loader's libpq settings, made on the driver (executors read
    no environment); it travels inside the task and is never logged.
    """

    conninfo: dict[str, Any] = field(repr=False)
    rules: Rules
    topic_prefix: str
    sink_key: str
    batch_id: int
    run_id: str
    months_ahead: int = sink.MONTHS_AHEAD

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        # The whole partition first (a micro-batch's share of one core): its months are
        # created before the transaction that lands it.
        parts = list(validate_batches(batches, self.rules, None, self.topic_prefix))
        valid = pa.concat_tables([VALID_SCHEMA.empty_table(), *(v for v, _ in parts)])
        rejected = pd.concat(
            [pd.DataFrame(columns=list(REJECTED_COLUMNS)), *(r for _, r in parts)],
            ignore_index=True,
        )
        result = sink.BatchResult(0, 0, 0)
        if valid.num_rows or len(rejected):
            with psycopg.connect(**self.conninfo) as conn:
                result = land_partition(
                    conn, valid, rejected, sink_key=self.sink_key, batch_id=self.batch_id,
                    run_id=self.run_id, months_ahead=self.months_ahead,
                )  # fmt: skip
        row = {"task": TaskContext.get().partitionId(), **result.as_dict()}
        yield pa.RecordBatch.from_pylist([row], schema=_RESULT_ARROW)


def finish_batch(
    conn: psycopg.Connection, sink_key: str, batch_id: int, *, rows_in: int
) -> sink.BatchResult:
    """Claim ``(sink_key, batch_id)`` with its tasks' counts and delete their claims."""
    with conn.transaction():
        claimed = sink.claim_batch(conn, sink_key, batch_id, rows_in)
        landed, rejected = conn.execute(
            "select coalesce(sum(rows_landed), 0), coalesce(sum(rows_rejected), 0)"
            " from ops.stream_batch_tasks where sink = %s and batch_id = %s",
            (sink_key, batch_id),
        ).fetchone()
        if claimed:
            sink.record_batch(conn, sink_key, batch_id, landed, rejected)
        # Earlier batches' too: a run killed between its tasks and this left them.
        conn.execute(
            "delete from ops.stream_batch_tasks where sink = %s and batch_id <= %s",
            (sink_key, batch_id),
        )
    if not claimed:
        return sink.BatchResult(rows_in, 0, 0, replayed=True)
    return sink.BatchResult(rows_in, int(landed), int(rejected))
