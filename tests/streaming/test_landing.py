"""Spark landing against real Kafka and PostgreSQL: exactly once through SIGKILLs, dead letters.

One scenario, shared by the tests of this module (Spark starts are the slow part):
produce N valid events with every kind of bad message interleaved, run
``moviepipe stream land --available-now`` in a subprocess with small
micro-batches, SIGKILL it (with its JVM) a few times while batches are being
written, then let a last run drain the topics.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from moviepipe import db
from streaming import sink
from streaming.land import SINK
from streaming.producer import produce
from streaming.sources import simulate_events
from tests.streaming.conftest import drop_topics, fresh_topics, live_bad_messages
from tests.streaming.kills import land_cmd, land_env, land_once, land_through_kills

pytestmark = [pytest.mark.integration, pytest.mark.spark]

N_VALID = 4000
KILLS = 3


@pytest.fixture(scope="module")
def landed(stream_settings, rules, tmp_path_factory):
    settings = fresh_topics(stream_settings)
    prefix = settings.moviepipe_topic_prefix
    start = datetime(2024, 5, 1, tzinfo=UTC)
    valid = list(simulate_events(N_VALID, seed=5, movie_ids=range(1, 300), start=start))
    bad = live_bad_messages(prefix)
    messages: list = list(valid)
    rng = random.Random(1)
    for topic, value, _ in bad:  # interleave: bad messages sit between valid neighbours
        messages.insert(rng.randrange(len(messages)), (topic, b"bad-key", value))
    summary = produce(settings, rules, messages)
    assert summary["delivered"] == len(messages), summary

    checkpoint = tmp_path_factory.mktemp("ckpt") / "land"
    env, cmd = land_env(settings), land_cmd(checkpoint)
    log = tmp_path_factory.mktemp("log") / "land.log"
    kills = land_through_kills(settings, env, cmd, log, KILLS)
    final = land_once(env, cmd, log)
    assert final == 0, log.read_text()[-3000:]
    yield {"settings": settings, "valid": valid, "bad": bad, "kills": kills}
    drop_topics(settings)


def test_exactly_once_through_kills(landed):
    settings = landed["settings"]
    assert landed["kills"] >= 2  # the killed runs really were running
    with db.connect(settings, "loader") as conn:
        rows = conn.execute(
            "select event_id::text, kafka_topic from raw.user_events where kafka_topic like %s",
            (settings.moviepipe_topic_prefix + "%",),
        ).fetchall()
        batches = conn.execute(
            "select count(*), count(distinct batch_id), sum(rows_in)::int from ops.stream_batches"
            " where sink like %s",
            (SINK + "@%",),
        ).fetchone()
    ids = [r[0] for r in rows]
    assert len(ids) == N_VALID
    assert set(ids) == {e["event_id"] for e in landed["valid"]}
    assert batches[0] == batches[1]
    # every message was counted by exactly one committed batch
    assert batches[2] == N_VALID + len(landed["bad"])


def test_bad_messages_land_in_dead_letter_with_reason(landed):
    settings = landed["settings"]
    with db.connect(settings, "loader") as conn:
        rows = conn.execute(
            "select raw_value, reason, reason_detail, source_flag, raw_key"
            " from raw.user_events_rejected where kafka_topic like %s",
            (settings.moviepipe_topic_prefix + "%",),
        ).fetchall()
    got = Counter((bytes(v) if v is not None else None, r) for v, r, *_ in rows)
    # each original value with its reason: bytes kept, reason right, nothing lost or doubled
    assert got == Counter((v, r) for _, v, r in landed["bad"])
    assert all(
        detail and flag == "spark" and bytes(key) == b"bad-key" for _, _, detail, flag, key in rows
    )


def test_replayed_batch_changes_nothing(landed, rules):
    """A batch id already committed is skipped whole, even with new rows in it."""
    import pandas as pd

    from tests.streaming.engines import pandas_parse_validate

    settings = landed["settings"]
    event = dict(landed["valid"][0], event_id="00000000-0000-4000-8000-000000000001")
    topic = settings.topic("user_click_log" if event["event_type"] == "click" else "user_watch_log")
    event["event_type"] = "click" if topic.endswith("click_log") else "watch"
    records = pd.DataFrame(
        {
            "key": [b"k"],
            "value": [json.dumps(event).encode()],
            "topic": [topic],
            "partition": [0],
            "offset": [10**9],
            "timestamp": [pd.Timestamp.now(tz="UTC")],
        }
    )
    valid, rejected = pandas_parse_validate(
        records, rules, topic_prefix=settings.moviepipe_topic_prefix
    )
    with db.connect(settings, "loader") as conn:
        key, batch_id = conn.execute(
            "select sink, max(batch_id) from ops.stream_batches where sink like %s group by sink",
            (SINK + "@%",),
        ).fetchone()
        result = sink.write_batch(conn, valid, rejected, table="raw.user_events", run_id="t",
                                  source_flag="spark", sink=key, batch_id=batch_id)  # fmt: skip
        assert result.replayed
        found = conn.execute(
            "select count(*) from raw.user_events where event_id = %s", (event["event_id"],)
        ).fetchone()[0]
    assert found == 0


def test_heartbeats_report_progress_and_lag(landed):
    """One heartbeat per batch; the drained run's last one reports no lag."""
    settings = landed["settings"]
    with db.connect(settings, "loader") as conn:
        beats = conn.execute(
            "select batch_id, rows_in, rows_landed, rows_rejected, lag from ops.stream_heartbeat"
            " where sink = %s order by beat_at",
            (SINK,),
        ).fetchall()
        committed = conn.execute(
            "select count(*) from ops.stream_batches where sink like %s", (SINK + "@%",)
        ).fetchone()[0]
    assert len(beats) >= committed  # killed runs may beat once more before dying
    assert all(b[1] == b[2] + b[3] or b[2] == 0 for b in beats)  # a replay lands nothing
    assert beats[-1][4] == 0
    assert any(b[4] is not None and b[4] > 0 for b in beats)  # a 400-offset batch left some
