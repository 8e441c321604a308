"""The event contract: reference validator, published JSON Schema, pandas and Spark agree."""

from __future__ import annotations

import json
from datetime import UTC

import jsonschema
import pandas as pd
import pytest

from moviepipe.events import check_event, json_schema, validate_event
from streaming.pandas_transforms import pandas_parse_validate
from tests.streaming.conftest import CASES, NOW, event, raw

IDS = [c[0] for c in CASES]


def _records(prefix: str = "") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": [b"42"] * len(CASES),
            "value": [c[2] for c in CASES],
            "topic": [prefix + c[1] for c in CASES],
            "partition": [0] * len(CASES),
            "offset": list(range(len(CASES))),
            "timestamp": [NOW] * len(CASES),
        }
    )


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


def test_validate_event_types_the_envelope(rules):
    doc = event("comment", event_id="A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")
    got, reason = validate_event(raw(doc), now=NOW, rules=rules, topic="user_comment_log")
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
    from streaming.transforms import KAFKA_SCHEMA, spark_parse_validate

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
