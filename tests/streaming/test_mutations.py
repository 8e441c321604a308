"""Mutated producer messages: the pandas and Spark pipelines never disagree with the reference.

The fast paths accept only messages in the canonical form; these are the messages
most likely to sit just outside it. Every canonical message from the simulator is
kept and mutated twice (a byte replaced, dropped or inserted, a pair repeated, a
value's JSON type changed, something appended), with a fixed seed.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pandas as pd
import pytest

from moviepipe.events import check_event
from streaming.sources import simulate_events
from tests.streaming.conftest import NOW
from tests.streaming.engines import pandas_parse_validate, same_detail

_CHARS = [b'"', b"\\", b"{", b"}", b":", b",", b" ", b"0", b"a", b"\x00", b"\xff", b"-",
          b".", b"e", b"[", b"]", b"'", b"n", b"\n", b"9"]  # fmt: skip


def _mutate(raw: bytes, rng: random.Random) -> bytes:
    kind, i = rng.randrange(6), rng.randrange(len(raw))
    if kind == 0:
        return raw[:i] + rng.choice(_CHARS) + raw[i + 1 :]
    if kind == 1:
        return raw[:i] + raw[i + 1 :]
    if kind == 2:
        return raw[:i] + rng.choice(_CHARS) + raw[i:]
    if kind == 3:
        return raw[:-1] + b"," + rng.choice(raw[1:-1].split(b",")) + b"}"
    if kind == 4:
        doc = json.loads(raw)
        name = rng.choice(list(doc))
        value = doc[name]
        doc[name] = int(value) if isinstance(value, str) and value.isdigit() else str(value)
        return json.dumps(doc, separators=(",", ":")).encode()
    return raw + rng.choice([b" ", b"{}", b"x"])


@pytest.fixture(scope="module")
def messages(rules) -> list[tuple[bytes, str]]:
    rng = random.Random(11)
    out = []
    for e in simulate_events(1000, 7, start=datetime(2024, 5, 20, tzinfo=UTC)):
        raw = json.dumps(e, separators=(",", ":")).encode()
        topic = rules.events.topic_by_event_type[e["event_type"]]
        out += [(raw, topic), (_mutate(raw, rng), topic), (_mutate(raw, rng), topic)]
    return out


def _records(messages) -> pd.DataFrame:
    n = len(messages)
    return pd.DataFrame(
        {"key": [b"k"] * n, "value": [m[0] for m in messages],
         "topic": [m[1] for m in messages], "partition": [0] * n, "offset": range(n),
         "timestamp": [NOW] * n}
    )  # fmt: skip


def _reference(messages, rules) -> list:
    return [check_event(v, now=NOW, rules=rules, topic=t) for v, t in messages]


def test_pandas_agrees_with_reference_on_mutations(messages, rules):
    expected = _reference(messages, rules)
    valid, rejected = pandas_parse_validate(_records(messages), rules, now=NOW)
    got = dict(zip(rejected["kafka_offset"], rejected["reason"], strict=True))
    assert {i: v.reason for i, v in enumerate(expected) if v.reason} == got
    rows = {r.kafka_offset: r for r in valid.itertuples()}
    assert set(rows) == {i for i, v in enumerate(expected) if v.event is not None}
    for i, row in rows.items():
        event = expected[i].event
        assert (row.event_id, row.event_ts, json.loads(row.payload)) == (
            event["event_id"], event["event_ts"], event["payload"],
        )  # fmt: skip
    # the corpus is worth something only if it has both sides
    assert 0.3 < len(rows) / len(messages) < 0.8


@pytest.mark.integration
@pytest.mark.spark
def test_spark_agrees_with_reference_on_mutations(spark, messages, rules):
    from streaming.transforms import KAFKA_SCHEMA, classify

    expected = _reference(messages, rules)
    rows = [(b"k", v, t, 0, i, NOW) for i, (v, t) in enumerate(messages)]
    df = spark.createDataFrame(rows, KAFKA_SCHEMA)
    got = {r["kafka_offset"]: r for r in classify(df, rules, now=NOW).toArrow().to_pylist()}
    assert {i: r["reason"] for i, r in got.items()} == {i: v.reason for i, v in enumerate(expected)}
    for i, v in enumerate(expected):
        if v.event is not None:
            assert json.loads(got[i]["payload"]) == v.event["payload"]
            assert got[i]["event_id"] == v.event["event_id"]


@pytest.mark.integration
@pytest.mark.spark
def test_spark_details_agree_with_reference_on_mutations(spark, messages, rules):
    """Every dead letter's reason_detail in the reference's words (decoder messages aside)."""
    from streaming.transforms import KAFKA_SCHEMA, classify

    rows = [(b"k", v, t, 0, i, NOW) for i, (v, t) in enumerate(messages)]
    got = classify(spark.createDataFrame(rows, KAFKA_SCHEMA), rules, now=NOW).toArrow().to_pylist()
    details = {r["kafka_offset"]: r["reason_detail"] for r in got}
    expected = {i: v.detail for i, v in enumerate(_reference(messages, rules)) if v.reason}
    assert len(expected) > 1000
    differ = {i: (details[i], d) for i, d in expected.items() if not same_detail(details[i], d)}
    assert not differ
