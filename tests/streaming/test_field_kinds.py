"""A field kind added in one place is enforced by every engine.

One :class:`~moviepipe.events.kinds.FieldKind` entry ("percent": a number in
0..100) and one payload field of that kind, and nothing else: the reference,
the JSON Schema, the Arrow screen, the pandas fallback and Spark (the screen
through ``mapInArrow``) all reject an out-of-range value with the same reason
and detail and accept a valid one. A kind bounded by ``transform_rules.json``
follows the rules it is given.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import jsonschema
import numpy as np
import pyarrow as pa
import pytest

from moviepipe.events import KINDS, PAYLOAD_FIELDS, FieldKind, FromRules, check_event
from moviepipe.events.schema import json_schema
from streaming.arrow_screen import screen
from tests.streaming.conftest import NOW, event
from tests.streaming.engines import pandas_parse_validate

PERCENT = FieldKind("percent", "number", minimum=0, maximum=100)
# Bounded by the rules: the same maximum as a comment's rating.
STARS = FieldKind("stars", "number", minimum=0, maximum=FromRules("rating_max"))
TOPIC = "user_watch_log"
CLOCK_US = int(NOW.timestamp() * 1_000_000)


@contextlib.contextmanager
def added_kinds() -> Iterator[None]:
    """The two kinds, and watch fields of them: the only change a new kind needs."""
    watch = PAYLOAD_FIELDS["watch"]
    KINDS.update(percent=PERCENT, stars=STARS)
    PAYLOAD_FIELDS["watch"] = (
        *watch,
        ("progress_pct", "percent", False),
        ("stars", "stars", False),
    )
    try:
        yield
    finally:
        PAYLOAD_FIELDS["watch"] = watch
        del KINDS["percent"], KINDS["stars"]


def _watch(compact: bool, **payload) -> bytes:
    doc = event()
    doc["payload"] = {**doc["payload"], **payload}
    return json.dumps(doc, separators=(",", ":") if compact else None).encode()


# (name, payload additions, reason, detail); each sent compact (canonical) and spaced
CASES = [
    ("valid", {"progress_pct": 42.5}, None, None),
    ("edge", {"progress_pct": 100, "stars": 0}, None, None),
    ("absent", {}, None, None),
    ("above", {"progress_pct": 120}, "bad_payload:progress_pct",
     "payload.progress_pct = 120 is above the maximum 100"),
    ("below", {"progress_pct": -0.5}, "bad_payload:progress_pct",
     "payload.progress_pct = -0.5 is below the minimum 0"),
    ("string", {"progress_pct": "50"}, "bad_payload:progress_pct",
     'payload.progress_pct = "50" is a string, not a number'),
    ("stars above the rules", {"stars": 5.5}, "bad_payload:stars",
     "payload.stars = 5.5 is above the maximum 5.0"),
]  # fmt: skip
MESSAGES = [(_watch(compact, **c[1]), c) for compact in (True, False) for c in CASES]
CANONICAL = {i for i in range(len(CASES)) if CASES[i][2] is None}  # valid and compact


def test_without_the_kinds_the_fields_are_free(rules):
    value = _watch(True, progress_pct=120, stars=5.5)
    assert check_event(value, now=NOW, rules=rules, topic=TOPIC).reason is None


def test_reference_and_json_schema_enforce_the_new_kind(rules):
    with added_kinds():
        validator = jsonschema.Draft202012Validator(json_schema(rules))
        for value, (name, _, reason, detail) in MESSAGES:
            verdict = check_event(value, now=NOW, rules=rules, topic=TOPIC)
            assert (verdict.reason, verdict.detail) == (reason, detail), name
            errors = list(validator.iter_errors(json.loads(value)))
            assert [list(e.absolute_path)[-1:] for e in errors] == (
                [[reason.split(":")[1]]] if reason else []
            ), name


def test_arrow_screen_and_pandas_enforce_the_new_kind(rules):
    with added_kinds():
        values = [m[0] for m in MESSAGES]
        proven, _ = screen(values, [TOPIC] * len(values), np.full(len(values), CLOCK_US), rules)
        # in the canonical form the new field is screened: valid ones proven, the others not
        assert set(proven.tolist()) == CANONICAL
        valid, rejected = pandas_parse_validate(_records(), rules, now=NOW)
    expected = {i: (c[2], c[3]) for i, (_, c) in enumerate(MESSAGES) if c[2]}
    got = zip(rejected["reason"], rejected["reason_detail"], strict=True)
    assert dict(zip(rejected["kafka_offset"], got, strict=True)) == expected
    assert sorted(valid["kafka_offset"]) == [i for i in range(len(MESSAGES)) if i not in expected]


def test_a_rules_bound_follows_the_rules(rules):
    wider = rules.model_copy(update={"events": rules.events.model_copy(update={"rating_max": 10})})
    value = _watch(True, stars=5.5)
    with added_kinds():
        assert check_event(value, now=NOW, rules=wider, topic=TOPIC).reason is None
        assert check_event(value, now=NOW, rules=rules, topic=TOPIC).reason == "bad_payload:stars"
        proven, _ = screen([value] * 2, [TOPIC] * 2, np.full(2, CLOCK_US), wider)
        assert proven.tolist() == [0, 1]
        assert json_schema(wider)["allOf"][0]["then"]["properties"]["payload"]["properties"][
            "stars"
        ] == {"type": "number", "minimum": 0, "maximum": 10}


def _records():
    import pandas as pd

    n = len(MESSAGES)
    return pd.DataFrame(
        {"key": [b"k"] * n, "value": [m[0] for m in MESSAGES], "topic": [TOPIC] * n,
         "partition": [0] * n, "offset": range(n), "timestamp": [NOW] * n}
    )  # fmt: skip


@dataclass(frozen=True)
class _WithKinds:
    """Spark's ``mapInArrow`` function with the kinds added in the task's Python worker
    (a test's change to the tables does not travel to the workers; a source edit does)."""

    classify: object

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        with added_kinds():
            yield from self.classify(batches)


@pytest.mark.integration
@pytest.mark.spark
def test_spark_enforces_the_new_kind(spark, rules):
    from streaming.transforms import CLASSIFIED_SCHEMA, KAFKA_SCHEMA, Classify

    rows = [(b"k", m[0], TOPIC, 0, i, NOW) for i, m in enumerate(MESSAGES)]
    df = spark.createDataFrame(rows, KAFKA_SCHEMA)
    got = df.mapInArrow(_WithKinds(Classify(rules, NOW)), CLASSIFIED_SCHEMA).collect()
    assert {r.kafka_offset: (r.reason, r.reason_detail) for r in got} == {
        i: (c[2], c[3]) for i, (_, c) in enumerate(MESSAGES)
    }
