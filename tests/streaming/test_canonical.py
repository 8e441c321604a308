"""The canonical rewrite: another client's formatting is proven by the screen, never misjudged.

:func:`streaming.canonical.canonicalize` hands the screen a rewrite of what it cannot
prove as sent. These tests hold it to two things: the ordinary events of another
client (spaces, another key order, ``\\u`` escapes, an optional field left out) reach
the reference not at all, and every message that parses differently in orjson and in
the reference (a key given twice, hidden behind an escaped quote or colon, an integer
past 64 bits, an infinite number, ...) gets the reference's verdict.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import orjson
import pandas as pd
import pytest

from bench.event_formats import canonical, other_client
from moviepipe.events import check_event
from streaming import pandas_transforms
from streaming.canonical import canonicalize
from streaming.sources import simulate_events
from tests.streaming.conftest import NOW
from tests.streaming.engines import pandas_parse_validate
from tests.streaming.test_mutations import _mutate

START = datetime(2024, 5, 20, tzinfo=UTC)


def _records(messages: list[tuple[bytes, str]]) -> pd.DataFrame:
    n = len(messages)
    return pd.DataFrame(
        {"key": [b"k"] * n, "value": [m[0] for m in messages],
         "topic": [m[1] for m in messages], "partition": [0] * n, "offset": range(n),
         "timestamp": [NOW] * n}
    )  # fmt: skip


def _agree(messages: list[tuple[bytes, str]], rules) -> int:
    """Assert the fallback's verdicts are the reference's; returns how many were valid."""
    expected = [check_event(v, now=NOW, rules=rules, topic=t) for v, t in messages]
    valid, rejected = pandas_parse_validate(_records(messages), rules, now=NOW)
    got = dict(zip(rejected["kafka_offset"], rejected["reason"], strict=True))
    assert got == {i: v.reason for i, v in enumerate(expected) if v.reason}
    for row in valid.itertuples():
        event = expected[row.kafka_offset].event
        session = None if pd.isna(row.session_id) else row.session_id
        assert (row.event_id, row.event_ts, session, json.loads(row.payload)) == (
            event["event_id"], event["event_ts"], event["session_id"], event["payload"],
        )  # fmt: skip
    return len(valid)


def _events(n: int) -> list[dict]:
    return list(simulate_events(n, 5, start=START))


def test_other_clients_events_never_reach_the_reference(rules, monkeypatch):
    events = _events(600)
    messages = [(other_client(e, i), rules.events.topic_by_event_type[e["event_type"]])
                for i, e in enumerate(events)]  # fmt: skip
    calls = []
    real = pandas_transforms.check_event
    monkeypatch.setattr(
        pandas_transforms, "check_event", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    valid, rejected = pandas_parse_validate(_records(messages), rules, now=NOW)
    assert (len(valid), len(rejected), len(calls)) == (600, 0, 0)


def test_the_rewrite_is_the_canonical_form(rules):
    events = _events(30)
    rewritten = canonicalize([other_client(e, i) for i, e in enumerate(events)], rules)
    for i, (e, got) in enumerate(zip(events, rewritten, strict=True)):
        if i % 3 == 0:  # other_client leaves session_id out of every third
            e = {k: v for k, v in e.items() if k != "session_id"}
        assert got == canonical(e, i)


def _spaced(doc: dict) -> str:
    return json.dumps(doc)  # json.dumps' default spacing: not the canonical form


@pytest.fixture
def comment(rules) -> tuple[dict, str]:
    e = next(e for e in _events(200) if e["event_type"] == "comment")
    return e, rules.events.topic_by_event_type["comment"]


def test_messages_orjson_reads_otherwise_get_the_reference_verdict(rules, comment):
    e, topic = comment
    text = _spaced(e)
    first = text.index('"event_type"')
    twice = text[:first] + '"user_id": "999", ' + text[first:]  # user_id given twice
    payload_at = text.index('"payload": {') + len('"payload": {')
    limit = rules.events.max_message_bytes
    oversize = "{" + " " * (limit + 1 - len(text)) + text[1:]
    cases = [
        twice,
        # the same key twice, an escaped quote and colon in a string making up the count
        twice.replace(e["payload"]["text"], e["payload"]["text"] + "\\u0022: x"),
        twice.replace(e["payload"]["text"], e["payload"]["text"] + '\\" \\u003a x'),
        twice.replace(e["payload"]["text"], e["payload"]["text"] + '\\"\\u0020: x'),
        text[:payload_at] + '"text": "a", ' + text[payload_at:],  # a payload key twice
        _spaced({**e, "movie_id": 12345678901234567890}),  # past 64 bits
        _spaced({**e, "movie_id": 18446744073709551616}),
        text.replace(f'"movie_id": {e["movie_id"]}', '"movie_id": 1e400'),
        text.replace(f'"movie_id": {e["movie_id"]}', '"movie_id": NaN'),
        _spaced({**e, "session_id": None}),
        _spaced({**e, "extra": 1}),
        _spaced({**e, "payload": {**e["payload"], "extra": 1}}),
        _spaced({**e, "payload": {**e["payload"], "text": "nul \x00 here"}}),
        text.replace(e["payload"]["text"], "\\ud800 lone"),
        "\ufeff" + text,
        _spaced({**e, "event_id": e["event_id"].upper()}),
        _spaced({**e, "movie_id": 7.0}),
        _spaced({**e, "event_type": ["comment"]}),
        oversize,  # over the limit as sent, under it compacted
        text + "  ",
        "[" + text + "]",
    ]
    assert len(oversize) == limit + 1 and len(orjson.dumps(json.loads(oversize))) < limit
    messages = [(c.encode(), topic) for c in cases]
    valid = _agree(messages, rules)
    assert 0 < valid < len(cases)


def test_integers_past_64_bits_keep_their_value(rules):
    e = next(e for e in _events(200) if e["event_type"] == "watch")
    topic = rules.events.topic_by_event_type["watch"]
    cases = [{**e, "payload": {**e["payload"], "position_s": n}}
             for n in (18446744073709551617, 2**64, 10**30, 123456789012345678)]  # fmt: skip
    assert _agree([(_spaced(c).encode(), topic) for c in cases], rules) == len(cases)


def test_other_clients_mutated_messages_get_the_reference_verdict(rules):
    """The mutation corpus again, from another client's formatting (fallback engine)."""
    rng = random.Random(13)
    messages = []
    for i, e in enumerate(_events(700)):
        raw, topic = other_client(e, i), rules.events.topic_by_event_type[e["event_type"]]
        messages += [(raw, topic), (_mutate(raw, rng), topic), (_mutate(raw, rng), topic)]
    valid = _agree(messages, rules)
    assert 0.3 < valid / len(messages) < 0.8
