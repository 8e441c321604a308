"""streaming.sink against the test database: the direct COPY and its merge fallback."""

from __future__ import annotations

import json
import uuid

import pandas as pd

from moviepipe import db
from streaming import sink
from tests.streaming.conftest import NOW, event
from tests.streaming.engines import pandas_parse_validate


def _batch(stream_settings, rules, events: list[dict]):
    records = pd.DataFrame(
        {
            "key": [b"k"] * len(events),
            "value": [json.dumps(e).encode() for e in events],
            "topic": [stream_settings.topic("user_watch_log")] * len(events),
            "partition": [0] * len(events),
            "offset": range(len(events)),
            "timestamp": [pd.Timestamp(NOW)] * len(events),
        }
    )
    return pandas_parse_validate(
        records, rules, topic_prefix=stream_settings.moviepipe_topic_prefix
    )


def _write(conn, valid, rejected, run_id: str):
    return sink.write_batch(
        conn, valid, rejected, table="raw.user_events_fallback", run_id=run_id,
        source_flag="pandas",
    )  # fmt: skip


def _rows(conn, run_id: str) -> list[tuple]:
    return conn.execute(
        "select event_id::text, run_id, source_flag from raw.user_events_fallback"
        " where run_id = %s order by event_id",
        (run_id,),
    ).fetchall()


def test_new_events_land_with_run_id_and_flag(stream_settings, rules):
    events = [event() for _ in range(50)]
    valid, rejected = _batch(stream_settings, rules, events)
    run_id = f"sink-{uuid.uuid4().hex[:8]}"
    with db.connect(stream_settings, "loader") as conn:
        result = _write(conn, valid, rejected, run_id)
        rows = _rows(conn, run_id)
    assert result.rows_landed == 50
    assert sorted(e["event_id"] for e in events) == [r[0] for r in rows]
    assert {(r[1], r[2]) for r in rows} == {(run_id, "pandas")}


def test_events_already_there_are_skipped_not_failed(stream_settings, rules):
    first = [event() for _ in range(20)]
    second = first[10:] + [event() for _ in range(15)]
    run_a, run_b = (f"sink-{uuid.uuid4().hex[:8]}" for _ in range(2))
    with db.connect(stream_settings, "loader") as conn:
        assert _write(conn, *_batch(stream_settings, rules, first), run_a).rows_landed == 20
        result = _write(conn, *_batch(stream_settings, rules, second), run_b)
        assert result.rows_landed == 15
        assert len(_rows(conn, run_a)) == 20
        assert len(_rows(conn, run_b)) == 15


def test_an_event_sent_twice_in_one_batch_lands_once(stream_settings, rules):
    twice = event()
    events = [twice, event(), dict(twice)]
    run_id = f"sink-{uuid.uuid4().hex[:8]}"
    with db.connect(stream_settings, "loader") as conn:
        result = _write(conn, *_batch(stream_settings, rules, events), run_id)
        assert result.rows_landed == 2
        assert [r[0] for r in _rows(conn, run_id)].count(twice["event_id"]) == 1
