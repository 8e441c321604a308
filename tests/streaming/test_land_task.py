"""streaming.land_task against the test database: tasks land their own rows once, claimed by
their offset ranges; a retried or regrouped task adds nothing; the driver records the batch
with the tasks' counts and clears their claims; a replay of a recorded batch counts as one."""

from __future__ import annotations

import json
import uuid

import pandas as pd
import pyarrow as pa

from moviepipe import db
from streaming import land_task, sink
from tests.streaming.conftest import NOW, event
from tests.streaming.engines import pandas_parse_validate


def _classified(settings, rules, docs: list[bytes], partition: int = 0, first: int = 0):
    records = pd.DataFrame(
        {
            "key": [b"k"] * len(docs),
            "value": docs,
            "topic": [settings.topic("user_watch_log")] * len(docs),
            "partition": [partition] * len(docs),
            "offset": range(first, first + len(docs)),
            "timestamp": [pd.Timestamp(NOW)] * len(docs),
        }
    )
    valid, rejected = pandas_parse_validate(
        records, rules, topic_prefix=settings.moviepipe_topic_prefix
    )
    return sink.to_arrow(valid), rejected


def _halves(settings, rules, first: int | None = None):
    """Two Kafka partitions' rows: 15 valid and one dead letter each (the dead letters'
    coordinates are their key: each test has offsets of its own)."""
    first = uuid.uuid4().int % 10**9 if first is None else first
    out = []
    for partition in (0, 1):
        docs = [json.dumps(event()).encode() for _ in range(15)] + [b"{bad"]
        out.append(_classified(settings, rules, docs, partition, first))
    return out


def _counts(conn, key: str) -> tuple:
    landed = conn.execute("select count(*) from raw.user_events where run_id = %s", (key,))
    dead = conn.execute("select count(*) from raw.user_events_rejected where run_id = %s", (key,))
    tasks = conn.execute("select count(*) from ops.stream_batch_tasks where sink = %s", (key,))
    return landed.fetchone()[0], dead.fetchone()[0], tasks.fetchone()[0]


def _batches(conn, key: str) -> list:
    return conn.execute(
        "select batch_id, rows_in, rows_landed, rows_rejected from ops.stream_batches"
        " where sink = %s",
        (key,),
    ).fetchall()


def test_offset_ranges_name_each_partition_held(stream_settings, rules):
    (v0, r0), (v1, r1) = _halves(stream_settings, rules, first=0)
    topic = stream_settings.topic("user_watch_log")
    assert land_task.offset_ranges(v0, r0) == f"{topic}:0:0-15"
    both = land_task.offset_ranges(v1.slice(2), pd.concat([r1, r0]))
    assert both == f"{topic}:0:15-15,{topic}:1:2-15"
    assert land_task.offset_ranges(v0.slice(0, 0), r0.iloc[:0]) == ""


def test_tasks_land_once_and_the_driver_records_their_counts(stream_settings, rules):
    halves = _halves(stream_settings, rules)
    key = f"test.land_task@{uuid.uuid4()}"
    args = {"sink_key": key, "batch_id": 3, "run_id": key}
    with db.connect(stream_settings, "loader") as conn:
        first = [land_task.land_partition(conn, v, r, **args) for v, r in halves]
        assert [(f.rows_landed, f.rows_rejected) for f in first] == [(15, 1), (15, 1)]
        retried = land_task.land_partition(conn, *halves[1], **args)  # same ranges: claimed
        assert retried.replayed and _counts(conn, key) == (30, 2, 2)
        done = land_task.finish_batch(conn, key, 3, rows_in=32)
        assert (done.rows_landed, done.rows_rejected, done.replayed) == (30, 2, False)
        assert _counts(conn, key) == (30, 2, 0) and _batches(conn, key) == [(3, 32, 30, 2)]
        # Spark replays the recorded batch (killed before its checkpoint commit): the
        # tasks find every row there, the driver finds its claim.
        again = [land_task.land_partition(conn, v, r, **args) for v, r in halves]
        assert [(a.rows_landed, a.rows_rejected) for a in again] == [(0, 0), (0, 0)]
        assert land_task.finish_batch(conn, key, 3, rows_in=32).replayed
        assert _counts(conn, key) == (30, 2, 0) and _batches(conn, key) == [(3, 32, 30, 2)]


def test_a_replay_grouped_otherwise_lands_only_what_is_missing(stream_settings, rules):
    """Task 0 committed, then the run died; the replay holds both partitions in one task."""
    (v0, r0), (v1, r1) = _halves(stream_settings, rules)
    key = f"test.land_task@{uuid.uuid4()}"
    args = {"sink_key": key, "batch_id": 0, "run_id": key}
    with db.connect(stream_settings, "loader") as conn:
        land_task.land_partition(conn, v0, r0, **args)
        both = land_task.land_partition(
            conn, pa.concat_tables([v0, v1]), pd.concat([r0, r1]), **args
        )
        assert (both.rows_landed, both.rows_rejected, both.replayed) == (15, 1, False)
        done = land_task.finish_batch(conn, key, 0, rows_in=32)
        assert (done.rows_landed, done.rows_rejected) == (30, 2)
        assert _counts(conn, key) == (30, 2, 0)
