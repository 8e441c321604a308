"""streaming.stage against the test database: a retried task replaces its stage, the driver's
move lands a batch once, a replay lands nothing, and the stages are gone either way."""

from __future__ import annotations

import json
import uuid

import pandas as pd

from moviepipe import db
from moviepipe.events import VALID_COLUMNS
from streaming import sink, stage
from tests.streaming.conftest import NOW, event
from tests.streaming.engines import pandas_parse_validate


def _classified(settings, rules, docs: list[bytes]):
    records = pd.DataFrame(
        {
            "key": [b"k"] * len(docs),
            "value": docs,
            "topic": [settings.topic("user_watch_log")] * len(docs),
            "partition": [0] * len(docs),
            "offset": range(len(docs)),
            "timestamp": [pd.Timestamp(NOW)] * len(docs),
        }
    )
    return pandas_parse_validate(records, rules, topic_prefix=settings.moviepipe_topic_prefix)


def _task(conn, name: str, valid, rejected) -> None:
    """What one StageTask does, without Spark: replace the stage, COPY, commit."""
    with conn.transaction(), conn.cursor() as cur:
        stage._create(cur, name)
        rows = sink.to_arrow(valid)
        sink.copy_rows(cur, stage._ident(name + "_v"), rows.select(list(VALID_COLUMNS)))
        stage._copy_rejected(cur, name, rejected)


def _stages(conn, key: str) -> int:
    return len(stage.stale_stages(conn, key, below=10**9))


def test_stage_lands_once_and_is_dropped(stream_settings, rules):
    events = [event() for _ in range(30)]
    docs = [json.dumps(e).encode() for e in events] + [b"{bad", b""]
    valid, rejected = _classified(stream_settings, rules, docs)
    key = f"test.stage@{uuid.uuid4()}"
    prefix = stage.stage_prefix(key, 3)
    halves = [(valid.iloc[:15], rejected.iloc[:1]), (valid.iloc[15:], rejected.iloc[1:])]
    with db.connect(stream_settings, "loader") as conn:
        for task, (v, r) in enumerate(halves):
            _task(conn, f"{prefix}_{task}", v, r)
        _task(conn, f"{prefix}_1", *halves[1])  # a retried task: replaced, not added to
        names = [f"{prefix}_0", f"{prefix}_1"]
        assert _stages(conn, key) == 2
        args = {"rows_in": 32, "sink_key": key, "batch_id": 3, "run_id": key,
                "source_flag": "spark"}  # fmt: skip
        first = stage.land_staged(conn, names, **args)
        assert (first.rows_landed, first.rows_rejected, first.replayed) == (30, 2, False)
        assert _stages(conn, key) == 0
        # Spark replays the batch: the tasks stage it again, the claim makes the move a no-op
        for task, (v, r) in enumerate(halves):
            _task(conn, f"{prefix}_{task}", v, r)
        again = stage.land_staged(conn, names, **args)
        assert again.replayed and _stages(conn, key) == 0
        landed = conn.execute(
            "select count(*) from raw.user_events where run_id = %s", (key,)
        ).fetchone()[0]
        dead = conn.execute(
            "select count(*) from raw.user_events_rejected where run_id = %s", (key,)
        ).fetchone()[0]
        claimed = conn.execute(
            "select rows_in, rows_landed, rows_rejected from ops.stream_batches where sink = %s",
            (key,),
        ).fetchall()
    assert (landed, dead) == (30, 2)
    assert claimed == [(32, 30, 2)]


def test_stale_stages_are_those_of_earlier_batches(stream_settings, rules):
    valid, rejected = _classified(stream_settings, rules, [json.dumps(event()).encode()])
    key = f"test.stage@{uuid.uuid4()}"
    with db.connect(stream_settings, "loader") as conn:
        for batch in (4, 5, 6):
            _task(conn, f"{stage.stage_prefix(key, batch)}_0", valid, rejected)
        stale = stage.stale_stages(conn, key, below=6)
        assert sorted(stale) == [f"{stage.stage_prefix(key, b)}_0" for b in (4, 5)]
        with conn.transaction(), conn.cursor() as cur:
            stage.drop_stages(cur, [*stale, f"{stage.stage_prefix(key, 6)}_0"])
        assert _stages(conn, key) == 0
