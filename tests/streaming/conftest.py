"""Fixtures for the streaming tests: merged settings, a shared SparkSession, sample messages."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from moviepipe.config import Settings, load_settings
from moviepipe.rules import Rules, load_rules

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_rules()


@pytest.fixture(scope="session")
def stream_settings(pg_settings: Settings, topic_settings: Settings) -> Settings:
    """The test database and the test topic prefix together."""
    return pg_settings.model_copy(
        update={"moviepipe_topic_prefix": topic_settings.moviepipe_topic_prefix}
    )


@pytest.fixture(scope="session")
def spark() -> Iterator:
    from moviepipe.spark import build_spark_session

    session = build_spark_session(load_settings(), "moviepipe-tests")
    yield session
    session.stop()


def event(event_type: str = "watch", **overrides) -> dict:
    payloads = {
        "watch": {"position_s": 10, "duration_s": 5400.5, "watched_s": 10},
        "click": {"target": "poster", "page": "/home"},
        "comment": {"comment_id": "c1", "text": "Loved it", "rating": 4.5},
        "movie_update": {"action": "update", "fields": {"title": "X"}},
    }
    doc = {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "event_ts": (NOW - timedelta(hours=1)).isoformat(),
        "user_id": "42",
        "session_id": "s-1",
        "movie_id": 603,
        "payload": payloads.get(event_type, {}),
    }
    doc.update(overrides)
    return doc


def raw(doc: dict) -> bytes:
    return json.dumps(doc).encode()


def _payload(event_type: str, **changes) -> dict:
    body = dict(event(event_type)["payload"])
    for key, value in changes.items():
        if value is _DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


_DROP = object()


def _without(field: str) -> dict:
    doc = event()
    doc.pop(field)
    return doc


# (case name, topic name without prefix, raw value, expected reason or None)
CASES: list[tuple[str, str, bytes | None, str | None]] = [
    ("watch ok", "user_watch_log", raw(event("watch")), None),
    ("click ok", "user_click_log", raw(event("click")), None),
    ("comment ok", "user_comment_log", raw(event("comment")), None),
    ("movie_update ok", "movie", raw(event("movie_update")), None),
    ("no session", "user_watch_log", raw(event(session_id=None)), None),
    ("Z offset", "user_watch_log", raw(event(event_ts="2024-05-01T10:00:00.123Z")), None),
    (
        "emoji text",
        "user_comment_log",
        raw(event("comment", payload=_payload("comment", text="👍" * 3))),
        None,
    ),
    ("extra field kept", "user_watch_log", raw({**event(), "app_version": "1.2"}), None),
    ("empty", "user_watch_log", b"", "not_json"),
    ("tombstone", "user_watch_log", None, "not_json"),
    (
        "oversize",
        "user_watch_log",
        raw(event("comment", payload={"text": "x" * 70000})),
        "oversize",
    ),
    ("not utf8", "user_watch_log", b'{"event_id": "\xff\xfe"}', "not_utf8"),
    ("not json", "user_watch_log", b"{event_id: 1", "not_json"),
    ("NaN", "user_watch_log", b'{"a": NaN}', "not_json"),
    ("duplicate key", "user_watch_log", b'{"a": 1, "a": 2}', "not_json"),
    # A full event with a repeated key (compact, spaced, in the payload, in a nested list):
    # the fast decoder of the reference must notice it and defer to the strict one.
    (
        "duplicate envelope key",
        "user_watch_log",
        raw(event())[:-1] + b',"user_id":"7"}',
        "not_json",
    ),
    (
        "duplicate key spaced",
        "user_watch_log",
        raw(event())[:-1] + b', "user_id" :"7"}',
        "not_json",
    ),
    (
        "duplicate payload key",
        "movie",
        raw(event("movie_update"))[:-2] + b', "action": "update"}}',
        "not_json",
    ),
    (
        "duplicate key in a list",
        "movie",
        raw(
            event("movie_update", payload={"action": "update", "fields": {"l": [{"k": 1}]}})
        ).replace(b'{"k": 1}', b'{"k": 1,"k":2}'),
        "not_json",
    ),
    (
        "colon inside a string",
        "user_comment_log",
        raw(event("comment", payload={"text": 'he said "x": yes', "rating": 4})),
        None,
    ),
    ("array", "user_watch_log", b"[1, 2]", "not_object"),
    # Spark's JSON parsers stop after the first value; the contract refuses the rest.
    ("second document", "user_watch_log", raw(event()) + b" {}", "not_json"),
    ("trailing word", "user_watch_log", raw(event()) + b" x", "not_json"),
    ("trailing newline", "user_watch_log", raw(event()) + b"\r\n", None),
    ("array then text", "user_watch_log", b"[1, 2] x", "not_json"),
    ("number then text", "user_watch_log", b"5 x", "not_json"),
    ("two strings", "user_watch_log", b'"a" "b"', "not_json"),
    ("json null", "user_watch_log", b"null", "not_object"),
    ("NUL char", "user_watch_log", raw(event(user_id="a\u0000b")), "bad_unicode"),
    ("missing event_id", "user_watch_log", raw(_without("event_id")), "missing_field:event_id"),
    ("null event_ts", "user_watch_log", raw(event(event_ts=None)), "missing_field:event_ts"),
    ("missing payload", "user_watch_log", raw(_without("payload")), "missing_field:payload"),
    ("missing movie_id", "user_watch_log", raw(_without("movie_id")), "missing_field:movie_id"),
    ("bad uuid", "user_watch_log", raw(event(event_id="not-a-uuid")), "bad_type:event_id"),
    ("numeric user", "user_watch_log", raw(event(user_id=42)), "bad_type:user_id"),
    ("empty user", "user_watch_log", raw(event(user_id="")), "bad_type:user_id"),
    (
        "ts no offset",
        "user_watch_log",
        raw(event(event_ts="2024-05-01T10:00:00")),
        "bad_type:event_ts",
    ),
    (
        "ts impossible",
        "user_watch_log",
        raw(event(event_ts="2024-02-30T10:00:00Z")),
        "bad_type:event_ts",
    ),
    ("ts number", "user_watch_log", raw(event(event_ts=1714557600)), "bad_type:event_ts"),
    ("movie string", "user_watch_log", raw(event(movie_id="603")), "bad_type:movie_id"),
    ("movie float", "user_watch_log", raw(event(movie_id=603.0)), "bad_type:movie_id"),
    ("movie zero", "user_watch_log", raw(event(movie_id=0)), "bad_type:movie_id"),
    ("session number", "user_watch_log", raw(event(session_id=7)), "bad_type:session_id"),
    ("payload list", "user_watch_log", raw(event(payload=[1])), "bad_type:payload"),
    ("unknown type", "user_watch_log", raw(event(event_type="purchase")), "unknown_event_type"),
    ("wrong topic", "user_click_log", raw(event("watch")), "topic_mismatch"),
    (
        "future",
        "user_watch_log",
        raw(event(event_ts="2024-06-03T12:00:00+00:00")),
        "future_timestamp",
    ),
    (
        "future within skew",
        "user_watch_log",
        raw(event(event_ts="2024-06-02T11:00:00+00:00")),
        None,
    ),
    (
        "negative position",
        "user_watch_log",
        raw(event(payload=_payload("watch", position_s=-1))),
        "bad_payload:position_s",
    ),
    (
        "zero duration",
        "user_watch_log",
        raw(event(payload=_payload("watch", duration_s=0))),
        "bad_payload:duration_s",
    ),
    (
        "missing watched",
        "user_watch_log",
        raw(event(payload=_payload("watch", watched_s=_DROP))),
        "bad_payload:watched_s",
    ),
    (
        "bool position",
        "user_watch_log",
        raw(event(payload=_payload("watch", position_s=True))),
        "bad_payload:position_s",
    ),
    (
        "bad target",
        "user_click_log",
        raw(event("click", payload={"target": "banner"})),
        "bad_payload:target",
    ),
    (
        "page number",
        "user_click_log",
        raw(event("click", payload={"target": "poster", "page": 3})),
        "bad_payload:page",
    ),
    (
        "empty text",
        "user_comment_log",
        raw(event("comment", payload={"text": ""})),
        "bad_payload:text",
    ),
    (
        "long text",
        "user_comment_log",
        raw(event("comment", payload={"text": "y" * 5001})),
        "bad_payload:text",
    ),
    (
        "rating high",
        "user_comment_log",
        raw(event("comment", payload={"text": "ok", "rating": 5.5})),
        "bad_payload:rating",
    ),
    (
        "rating string",
        "user_comment_log",
        raw(event("comment", payload={"text": "ok", "rating": "5"})),
        "bad_payload:rating",
    ),
    (
        "bad action",
        "movie",
        raw(event("movie_update", payload={"action": "merge"})),
        "bad_payload:action",
    ),
    (
        "fields list",
        "movie",
        raw(event("movie_update", payload={"action": "add", "fields": []})),
        "bad_payload:fields",
    ),
]


def fresh_topics(settings: Settings) -> Settings:
    """``settings`` with a topic prefix of its own, topics created: one scenario, one set."""
    from moviepipe.services import kafka

    prefix = f"{settings.moviepipe_topic_prefix}{uuid.uuid4().hex[:6]}_"
    out = settings.model_copy(update={"moviepipe_topic_prefix": prefix})
    kafka.ensure_topics(out)
    return out


def drop_topics(settings: Settings) -> None:
    """Delete the scenario's topics (best effort): test runs should not pile topics up."""
    from moviepipe.services import kafka

    admin = kafka.admin_client(settings)  # keep a reference until the futures resolve
    futures = admin.delete_topics(settings.topics, operation_timeout=30)
    for fut in futures.values():
        with contextlib.suppress(Exception):
            fut.result()


def live_bad_messages(prefix: str) -> list[tuple[str, bytes | None, str]]:
    """(topic, value, expected reason) for every rejection kind, against the real clock."""
    out = [
        (prefix + topic, value, reason)
        for name, topic, value, reason in CASES
        if reason is not None and not name.startswith("future")
    ]
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    out.append((prefix + "user_watch_log", raw(event(event_ts=future)), "future_timestamp"))
    return out
