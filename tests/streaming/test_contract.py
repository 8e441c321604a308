"""The event contract: reference validator, published JSON Schema, pandas and Spark agree."""

from __future__ import annotations

import json
from datetime import UTC

import jsonschema
import numpy as np
import pandas as pd
import pytest

from moviepipe.events import VALID_COLUMNS, check_event
from moviepipe.events.schema import json_schema
from tests.streaming.conftest import CASES, NOW, event, raw
from tests.streaming.engines import (
    DECODER_WORDS,
    pandas_parse_validate,
    same_detail,
    spark_parse_validate,
)

IDS = [c[0] for c in CASES]


def _records_of(cases: list, prefix: str = "p_") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": [b"42"] * len(cases),
            "value": [c[2] for c in cases],
            "topic": [prefix + c[1] for c in cases],
            "partition": [0] * len(cases),
            "offset": list(range(len(cases))),
            "timestamp": [NOW] * len(cases),
        }
    )


def _records(prefix: str = "") -> pd.DataFrame:
    return _records_of(CASES, prefix)


@pytest.mark.parametrize(("name", "topic", "value", "expected"), CASES, ids=IDS)
def test_reference_reasons(rules, name, topic, value, expected):
    verdict = check_event(value, now=NOW, rules=rules, topic=topic)
    assert verdict.reason == expected, verdict.detail
    assert (verdict.event is None) == (expected is not None)
    if expected:
        assert verdict.detail


@pytest.mark.parametrize(("name", "topic", "value", "expected"), CASES, ids=IDS)
def test_json_schema_agrees_on_json_objects(rules, name, topic, value, expected):
    """Where a message is a JSON object, the published schema accepts exactly the valid ones."""
    schema = json_schema(rules)
    if name in {"ts impossible", "movie float"}:
        return  # calendar validity is optional format semantics; JSON Schema calls 603.0 an integer
    if expected in {None, "unknown_event_type"} or (expected or "").startswith(
        ("missing_field", "bad_type", "bad_payload")
    ):
        doc = json.loads(value)
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
        assert (not errors) == (expected is None), [e.message for e in errors]


def test_published_schema_is_current(rules):
    from moviepipe.config import PROJECT_DIR

    published = json.loads((PROJECT_DIR / "docs" / "events.schema.json").read_text())
    assert published == json_schema(rules), (
        "run: python -m moviepipe.events > docs/events.schema.json"
    )


def test_check_event_types_the_envelope(rules):
    doc = event("comment", event_id="A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")
    got, reason, _ = check_event(raw(doc), now=NOW, rules=rules, topic="user_comment_log")
    assert reason is None
    assert got["event_id"] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    assert got["event_ts"].utcoffset() is not None
    assert got["payload"]["rating"] == 4.5


def test_pandas_matches_reference(rules):
    valid, rejected = pandas_parse_validate(_records("p_"), rules, now=NOW, topic_prefix="p_")
    expected_bad = {i: c[3] for i, c in enumerate(CASES) if c[3]}
    assert dict(zip(rejected["kafka_offset"], rejected["reason"], strict=True)) == expected_bad
    assert sorted(valid["kafka_offset"]) == [i for i, c in enumerate(CASES) if c[3] is None]
    assert rejected["raw_value"].tolist() == [CASES[i][2] for i in sorted(expected_bad)]
    assert valid["event_ts"].dt.tz is not None
    assert {
        json.loads(p)["position_s"] for p in valid.query("event_type == 'watch'")["payload"]
    } == {10}


@pytest.mark.integration
@pytest.mark.spark
def test_spark_matches_pandas(spark, rules):
    from streaming.transforms import KAFKA_SCHEMA

    records = _records("p_")
    pdf_valid, pdf_rejected = pandas_parse_validate(records, rules, now=NOW, topic_prefix="p_")
    rows = [(b"42", c[2], "p_" + c[1], 0, i, NOW) for i, c in enumerate(CASES)]
    df = spark.createDataFrame(rows, KAFKA_SCHEMA)
    valid, rejected = spark_parse_validate(df, rules, now=NOW, topic_prefix="p_")
    s_rejected = rejected.toPandas()
    s_valid = valid.toPandas()
    assert dict(zip(s_rejected["kafka_offset"], s_rejected["reason"], strict=True)) == dict(
        zip(pdf_rejected["kafka_offset"], pdf_rejected["reason"], strict=True)
    )
    assert list(s_valid.columns) == list(pdf_valid.columns)
    assert list(s_rejected.columns) == list(pdf_rejected.columns)
    s_valid = s_valid.sort_values("kafka_offset").reset_index(drop=True)
    pdf_valid = pdf_valid.sort_values("kafka_offset").reset_index(drop=True)
    for col in ("event_id", "event_type", "user_id", "session_id", "movie_id"):
        assert (
            s_valid[col].tolist()
            == pdf_valid[col].astype(object).where(pdf_valid[col].notna(), None).tolist()
        ), col
    assert [json.loads(p) for p in s_valid["payload"]] == [
        json.loads(p) for p in pdf_valid["payload"]
    ]
    s_ts = pd.to_datetime(s_valid["event_ts"]).dt.tz_localize(UTC)
    assert (s_ts == pdf_valid["event_ts"]).all()


def _compact(value: bytes) -> bytes:
    doc = json.loads(value)
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _unique_keys(value: bytes | None) -> bool:
    def hook(pairs):
        if len({k for k, _ in pairs}) != len(pairs):
            raise ValueError("duplicate")
        return dict(pairs)

    try:
        json.loads(value, object_pairs_hook=hook)
        return True
    except (ValueError, TypeError):
        return False


def _watch(**changes) -> bytes:
    return _compact(raw(event(**changes)))


_W = _watch()
_S = json.dumps(event()["session_id"]).encode()
# Compact messages (the producer's shape, which the Spark fast path reads) built to tempt
# the fast path into accepting what the contract refuses: (name, topic, value, reason).
FAST_CASES: list[tuple[str, str, bytes, str | None]] = [
    ("trailing object", "user_watch_log", _W + b"{}", "not_json"),
    ("trailing text", "user_watch_log", _W + b"x", "not_json"),
    ("single quotes", "user_watch_log", _W.replace(b'"user_id":"42"', b"\"user_id\":'42'"),
     "not_json"),
    ("NaN token", "user_watch_log", _W.replace(b'"position_s":10', b'"position_s":NaN'),
     "not_json"),
    ("NaN string", "user_watch_log", _W.replace(b'"position_s":10', b'"position_s":"NaN"'),
     "bad_payload:position_s"),
    ("huge number", "user_watch_log", _W.replace(b'"position_s":10', b'"position_s":1e400'),
     "bad_payload:position_s"),
    ("numeric user", "user_watch_log", _watch(user_id=42), "bad_type:user_id"),
    ("list user", "user_watch_log", _watch(user_id=["42"]), "bad_type:user_id"),
    ("object user", "user_watch_log", _watch(user_id={"a": "42"}), "bad_type:user_id"),
    ("string movie", "user_watch_log", _watch(movie_id="603"), "bad_type:movie_id"),
    ("float movie", "user_watch_log", _watch(movie_id=603.0), "bad_type:movie_id"),
    ("huge movie", "user_watch_log", _watch(movie_id=10**20), "bad_type:movie_id"),
    ("repeated key", "user_watch_log", _W[:-1] + b',"user_id":"7"}', "not_json"),
    ("repeated key, spaced", "user_watch_log", _W[:-1] + b',"user_id" :"7"}', "not_json"),
    ("repeated key hidden by a null", "user_watch_log",
     _W.replace(b'"session_id":' + _S, b'"session_id":null,"user_id":"7"'), "not_json"),
    ("null session", "user_watch_log", _watch(session_id=None), None),
    ("unknown key", "user_watch_log", _W[:-1] + b',"app":"x"}', None),
    ("unknown key in payload", "user_watch_log", _W[:-2] + b',"user_id":"x"}}', None),
    ("other type's field, badly typed", "user_click_log",
     _compact(raw(event("click", payload={"target": "poster", "position_s": "abc"}))), None),
    ("quote and colon in text", "user_comment_log",
     _compact(raw(event("comment", payload={"text": 'a":b "c"'}))), None),
    ("braces in text", "user_comment_log",
     _compact(raw(event("comment", payload={"text": "{x}"}))), None),
    ("apostrophe", "user_comment_log",
     _compact(raw(event("comment", payload={"text": "it's good", "rating": 4}))), None),
    ("accents", "user_comment_log",
     _compact(raw(event("comment", payload={"text": "café 👍"}))), None),
    ("escaped slash", "user_click_log",
     _compact(raw(event("click", payload={"target": "poster"})))
     .replace(b'"}}', b'","page":"\\/home"}}'),
     None),
    ("upper-case uuid", "user_watch_log",
     _watch(event_id="ABCDEF01-2345-4678-9ABC-DEF012345678"), None),
    ("keys reordered", "user_watch_log",
     json.dumps(dict(reversed(list(event().items()))), separators=(",", ":")).encode(), None),
    ("trailing space", "user_watch_log", _W + b" ", None),
    ("payload as text", "user_watch_log", _watch(payload="{}"), "bad_type:payload"),
    ("empty payload", "user_click_log", _compact(raw(event("click", payload={}))),
     "bad_payload:target"),
    ("empty user", "user_watch_log", _watch(user_id=""), "bad_type:user_id"),
    ("wrong topic", "user_click_log", _W, "topic_mismatch"),
    ("future", "user_watch_log", _watch(event_ts="2024-06-03T12:00:00+00:00"),
     "future_timestamp"),
    ("rating as bool", "user_comment_log",
     _compact(raw(event("comment", payload={"text": "ok", "rating": True}))), "bad_payload:rating"),
    ("negative zero", "user_watch_log",
     _W.replace(b'"position_s":10', b'"position_s":-0.0'), None),
]  # fmt: skip
# Every contract case again, compact (those that survive a re-encoding unchanged in meaning).
COMPACT_CASES = [
    (f"compact {name}", topic, _compact(value), None)
    for name, topic, value, _ in CASES
    if value and _unique_keys(value) and b"NaN" not in value
]


def test_fast_cases_mean_what_they_say(rules):
    for name, topic, value, reason in FAST_CASES:
        verdict = check_event(value, now=NOW, rules=rules, topic=topic)
        assert verdict.reason == reason, (name, verdict)


@pytest.mark.integration
@pytest.mark.spark
def test_spark_never_disagrees_with_reference_on_fast_cases(spark, rules):
    from streaming.transforms import KAFKA_SCHEMA

    cases = FAST_CASES + COMPACT_CASES
    rows = [(b"42", c[2], "p_" + c[1], 0, i, NOW) for i, c in enumerate(cases)]
    df = spark.createDataFrame(rows, KAFKA_SCHEMA)
    valid, rejected = spark_parse_validate(df, rules, now=NOW, topic_prefix="p_")
    got = {r.kafka_offset: r.reason for r in rejected.collect()}
    got_valid = {r.kafka_offset: r for r in valid.collect()}
    for i, (name, topic, value, _) in enumerate(cases):
        verdict = check_event(value, now=NOW, rules=rules, topic="p_" + topic, topic_prefix="p_")
        assert got.get(i) == verdict.reason, name
        if verdict.event is not None:
            row = got_valid[i]
            assert (row.event_id, row.user_id, row.session_id, row.movie_id) == tuple(
                verdict.event[k] for k in ("event_id", "user_id", "session_id", "movie_id")
            ), name
            assert json.loads(row.payload) == verdict.event["payload"], name
            assert row.event_ts.replace(tzinfo=UTC) == verdict.event["event_ts"], name


@pytest.mark.integration
@pytest.mark.spark
def test_spark_classify_gives_one_row_per_record(spark, rules):
    from streaming.transforms import KAFKA_SCHEMA, classify

    cases = CASES + FAST_CASES + COMPACT_CASES
    rows = [(b"42", c[2], "p_" + c[1], 0, i, NOW) for i, c in enumerate(cases)]
    df = spark.createDataFrame(rows, KAFKA_SCHEMA)
    got = classify(df, rules, now=NOW, topic_prefix="p_").toArrow().to_pylist()
    assert list(got[0]) == [*VALID_COLUMNS, "raw_key", "raw_value", "reason", "reason_detail"]
    assert sorted(r["kafka_offset"] for r in got) == list(range(len(cases)))
    expected_valid = sum(
        check_event(c[2], now=NOW, rules=rules, topic="p_" + c[1], topic_prefix="p_").reason is None
        for c in cases
    )
    assert sum(r["reason"] is None for r in got) == expected_valid


PANDAS_FAST_CASES = [
    ("far offset", "user_watch_log", _watch(event_ts="2024-05-01T10:00:00.5+23:59"), None),
    ("negative offset", "user_watch_log", _watch(event_ts="2024-05-01T10:00:00-12:30"), None),
    ("30 February", "user_watch_log", _watch(event_ts="2024-02-30T10:00:00Z"),
     "bad_type:event_ts"),
    ("leap second", "user_watch_log", _watch(event_ts="2024-06-30T23:59:60Z"),
     "bad_type:event_ts"),
    ("empty session", "user_watch_log", _watch(session_id=""), "bad_type:session_id"),
    ("empty page", "user_click_log",
     _compact(raw(event("click", payload={"target": "poster", "page": ""}))), None),
    ("exponent", "user_watch_log", _W.replace(b'"position_s":10', b'"position_s":1e1'), None),
    ("not utf8 inside a string", "user_watch_log", _W.replace(b'"42"', b'"4\xff"'), "not_utf8"),
]  # fmt: skip


def test_pandas_screen_never_disagrees_with_reference(rules):
    from streaming.arrow_screen import screen

    cases = FAST_CASES + COMPACT_CASES + PANDAS_FAST_CASES
    for name, topic, value, reason in PANDAS_FAST_CASES:
        assert check_event(value, now=NOW, rules=rules, topic=topic).reason == reason, name
    records = pd.DataFrame(
        {
            "key": [b"42"] * len(cases),
            "value": [c[2] for c in cases],
            "topic": ["p_" + c[1] for c in cases],
            "partition": [0] * len(cases),
            "offset": list(range(len(cases))),
            "timestamp": [NOW] * len(cases),
        }
    )
    valid, rejected = pandas_parse_validate(records, rules, now=NOW, topic_prefix="p_")
    got = dict(zip(rejected["kafka_offset"], rejected["reason"], strict=True))
    rows = {r.kafka_offset: r for r in valid.itertuples()}
    clock = int(NOW.timestamp() * 1_000_000)
    proven, _ = screen(
        [c[2] for c in cases], ["p_" + c[1] for c in cases], np.full(len(cases), clock), rules, "p_"
    )
    for i, (name, topic, value, _) in enumerate(cases):
        verdict = check_event(value, now=NOW, rules=rules, topic="p_" + topic, topic_prefix="p_")
        assert got.get(i) == verdict.reason, name
        if verdict.event is None:
            assert i not in proven, name
            continue
        row = rows[i]
        assert (row.event_id, row.user_id, row.movie_id) == tuple(
            verdict.event[k] for k in ("event_id", "user_id", "movie_id")
        ), name
        assert (None if pd.isna(row.session_id) else row.session_id) == verdict.event["session_id"]
        assert json.loads(row.payload) == verdict.event["payload"], name
        assert row.event_ts == verdict.event["event_ts"], name
    ordinary = {"compact watch ok", "compact click ok", "compact comment ok", "compact Z offset",
                "accents", "apostrophe", "upper-case uuid", "negative zero", "far offset",
                "negative offset"}  # fmt: skip
    assert {cases[i][0] for i in proven} >= ordinary


def test_pandas_details_are_the_reference_words(rules):
    cases = CASES + FAST_CASES + PANDAS_FAST_CASES
    _, rejected = pandas_parse_validate(_records_of(cases), rules, now=NOW, topic_prefix="p_")
    expected = {
        i: v.detail
        for i, c in enumerate(cases)
        if (
            v := check_event(c[2], now=NOW, rules=rules, topic="p_" + c[1], topic_prefix="p_")
        ).reason
    }
    assert dict(zip(rejected["kafka_offset"], rejected["reason_detail"], strict=True)) == expected
    rating = CASES[[c[0] for c in CASES].index("rating high")]
    assert expected[cases.index(rating)] == "payload.rating = 5.5 is above the maximum 5.0"


@pytest.mark.integration
@pytest.mark.spark
def test_spark_details_are_the_reference_words(spark, rules):
    from streaming.transforms import KAFKA_SCHEMA, classify

    # not PANDAS_FAST_CASES: Spark's timestamps refuse offsets beyond 18 hours ("far offset")
    cases = CASES + FAST_CASES + COMPACT_CASES
    rows = [(b"42", c[2], "p_" + c[1], 0, i, NOW) for i, c in enumerate(cases)]
    got = {
        r["kafka_offset"]: r["reason_detail"]
        for r in classify(spark.createDataFrame(rows, KAFKA_SCHEMA), rules, NOW, "p_")
        .toArrow()
        .to_pylist()
    }
    compared = 0
    for i, (name, topic, value, _) in enumerate(cases):
        verdict = check_event(value, now=NOW, rules=rules, topic="p_" + topic, topic_prefix="p_")
        if verdict.reason is None:
            assert got[i] is None, name
            continue
        assert same_detail(got[i], verdict.detail), (name, got[i], verdict.detail)
        compared += not verdict.detail.startswith(DECODER_WORDS)
    assert compared > 40
