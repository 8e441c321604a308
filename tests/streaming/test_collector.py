"""The event collector against the real Kafka and PostgreSQL: what is sent is what lands.

Each test has topics of its own (``fresh_topics``) and the app runs its real
lifespan (the idempotent producer, the loader connection) inside starlette's
TestClient. Rejections are compared with the reference validator called here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from moviepipe import db
from moviepipe.config import Settings
from moviepipe.events import check_event
from streaming.collector import create_app
from streaming.collector.batch import split_body
from streaming.kafka_io import iter_chunks, make_consumer
from tests.streaming.conftest import drop_topics, event, fresh_topics, live_bad_messages


@pytest.fixture
def collector(stream_settings: Settings) -> Iterator[tuple[TestClient, Settings]]:
    settings = fresh_topics(stream_settings)
    with TestClient(create_app(settings)) as client:
        yield client, settings
    drop_topics(settings)


def consumed(settings: Settings) -> list[tuple[str, bytes, bytes]]:
    """Every message on the settings' topics: (topic, key, value)."""
    consumer = make_consumer(settings, f"collector-test-{uuid.uuid4().hex[:6]}")
    try:
        return [
            (m.topic(), m.key(), m.value())
            for chunk in iter_chunks(consumer, 1000, stop_at_end=True, idle_timeout_s=10)
            for m in chunk
        ]
    finally:
        consumer.close()


def dead_letters(settings: Settings, run_id: str) -> list[tuple[bytes, str, str]]:
    with db.connect(settings, "loader") as conn:
        rows = conn.execute(
            "select raw_value, reason, reason_detail from raw.user_events_rejected"
            " where run_id = %s and source_flag = 'collector' order by rejected_id",
            (run_id,),
        ).fetchall()
    return [(bytes(v), r, d) for v, r, d in rows]


def test_valid_batch_is_in_kafka_exactly_as_sent(collector) -> None:
    client, settings = collector
    now = datetime.now(UTC).isoformat()
    docs = [event(t, event_ts=now, user_id=f"u{i}") for i, t in
            enumerate(["watch", "click", "comment", "movie_update"] * 5)]  # fmt: skip
    body = json.dumps(docs).encode()  # json.dumps' spaces: not the canonical form

    answer = client.post("/events", content=body, headers={"content-type": "application/json"})

    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == len(docs)
    assert [r["event_id"] for r in answer.json()["results"]] == [d["event_id"] for d in docs]
    got = sorted(consumed(settings), key=lambda m: m[2])
    sent = sorted(
        (settings.topic(t), d["user_id"].encode(), json.dumps(d).encode())
        for d in docs
        for t in [{"watch": "user_watch_log", "click": "user_click_log",
                   "comment": "user_comment_log", "movie_update": "movie"}[d["event_type"]]]
    )  # fmt: skip
    assert got == sorted(sent, key=lambda m: m[2])


def test_single_event_object(collector) -> None:
    client, settings = collector
    doc = event("click", event_ts=datetime.now(UTC).isoformat())
    answer = client.post("/events", content=json.dumps(doc).encode())
    assert answer.status_code == 202, answer.text
    assert answer.json()["results"] == [
        {"index": 0, "event_id": doc["event_id"], "status": "accepted"}
    ]
    assert [m[2] for m in consumed(settings)] == [json.dumps(doc).encode()]


def test_mixed_batch_produces_the_valid_and_keeps_the_rest(collector, rules) -> None:
    client, settings = collector
    # every rejection kind that can sit in a JSON array (a tombstone or bad UTF-8 cannot)
    bad = [v for _, v, _ in live_bad_messages(settings.moviepipe_topic_prefix) if v is not None]
    bad = [v for v in bad if _is_array_element(v)]
    good = [json.dumps(event(event_ts=datetime.now(UTC).isoformat())).encode() for _ in range(3)]
    values = [good[0], *bad[: len(bad) // 2], good[1], *bad[len(bad) // 2 :], good[2]]
    body = b"[" + b",\n ".join(values) + b"]"

    answer = client.post("/events", content=body)

    assert answer.status_code == 422, answer.text
    results = answer.json()["results"]
    assert [r["index"] for r in results] == list(range(len(values)))
    now = datetime.now(UTC)
    expected = [check_event(v, now=now, rules=rules) for v in values]
    assert len({v.reason for v in expected if v.reason}) >= 15  # the cases cover the contract
    assert [(r.get("reason"), r.get("reason_detail")) for r in results] == [
        (v.reason, v.detail) for v in expected
    ]
    # a case the engines reject only for its topic (topic_mismatch) is valid here
    assert sorted(m[2] for m in consumed(settings)) == sorted(
        v for v, verdict in zip(values, expected, strict=True) if verdict.event
    )
    run_id = f"collect-{answer.json()['request_id']}"
    assert dead_letters(settings, run_id) == [
        (value, v.reason, v.detail) for value, v in zip(values, expected, strict=True) if v.reason
    ]


def _is_array_element(value: bytes) -> bool:
    try:
        return split_body(b"[" + value + b"]", max_events=10) == [value]
    except Exception:
        return False


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b'[{"event_id": "a"}, {oops', 400, "not_json"),
        (b"{event_id: 1", 400, "not_json"),
        (b'[{"a": "\xff"}]', 400, "not_utf8"),
    ],
)
def test_unreadable_body_is_a_4xx_and_a_dead_letter(collector, body, status, reason) -> None:
    client, settings = collector
    answer = client.post("/events", content=body)
    assert answer.status_code == status, answer.text
    (result,) = answer.json()["results"]
    assert result["status"] == "rejected" and result["reason"] == reason
    letters = dead_letters(settings, f"collect-{answer.json()['request_id']}")
    assert letters == [(body, reason, result["reason_detail"])]
    assert consumed(settings) == []


def test_too_large_body_is_refused(collector) -> None:
    client, settings = collector
    body = b"[" + b" " * (5 * 1024 * 1024) + b"]"
    answer = client.post("/events", content=body)
    assert answer.status_code == 413
    assert answer.json()["results"][0]["reason"] == "oversize"
    (letter,) = dead_letters(settings, f"collect-{answer.json()['request_id']}")
    assert letter[1] == "oversize" and len(letter[0]) == 65536


def test_dead_letter_has_no_kafka_coordinates(collector) -> None:
    client, settings = collector
    body = b'[{"event_id": "same"}]'
    run_ids = [f"collect-{client.post('/events', content=body).json()['request_id']}"
               for _ in range(2)]  # fmt: skip
    with db.connect(settings, "loader") as conn:
        rows = conn.execute(
            "select kafka_topic, kafka_partition, kafka_offset, reason, run_id"
            " from raw.user_events_rejected where run_id = any(%s) order by rejected_id",
            (run_ids,),
        ).fetchall()
    # one receipt per request: the same bad event sent twice is two dead letters
    assert rows == [(settings.topic("collector"), None, None, "bad_type:event_id", r)
                    for r in run_ids]  # fmt: skip


def test_empty_batch_is_a_400(collector) -> None:
    client, _ = collector
    answer = client.post("/events", content=b" [ ] ")
    assert answer.status_code == 400
    assert answer.json()["detail"] == "the batch is empty"


def test_collect_is_a_moviepipe_command() -> None:
    from click.testing import CliRunner

    from commands.app import main

    result = CliRunner().invoke(main, ["collect", "--help"])
    assert result.exit_code == 0, result.output
    assert "--port" in result.output and "POST /events" in result.output


def test_no_kafka_is_a_503_not_a_202(stream_settings: Settings) -> None:
    """Nothing listens on the port: no delivery report, so no 202 (the client retries)."""
    settings = stream_settings.model_copy(update={"kafka_bootstrap_servers": "127.0.0.1:9"})
    doc = event("click", event_ts=datetime.now(UTC).isoformat())
    with TestClient(create_app(settings, delivery_timeout_s=1.0)) as client:
        answer = client.post("/events", content=json.dumps(doc).encode())
    assert answer.status_code == 503
    (result,) = answer.json()["results"]
    assert result["status"] == "failed" and result["reason"] == "delivery_failed"


def test_too_many_events_is_refused_whole(collector) -> None:
    client, settings = collector
    limit = settings.tunables.streaming.collector.max_batch_events
    doc = json.dumps(event("click", event_ts=datetime.now(UTC).isoformat()))
    answer = client.post("/events", content=("[" + ",".join([doc] * (limit + 1)) + "]").encode())
    assert answer.status_code == 413, answer.text
    assert answer.json()["results"][0]["reason"] == "too_many_events"
    assert consumed(settings) == []
