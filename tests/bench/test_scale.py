"""The scale benchmark's history generator: rows valid under the contract, seeded, distinct."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from bench.scale_events import WEEK, history_chunks, simulated_week, uuid4_strings
from moviepipe.events import check_event
from moviepipe.rules import load_rules

END = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module")
def week(rules):
    # Two sessions an hour: a week of a few thousand events, generated in well under a second.
    return simulated_week(3, rules, movie_ids=[11, 12, 13, 603], sessions_per_hour=2)


def history(week, n, seed=3):
    return pa.concat_tables(history_chunks(n, week, seed=seed, end=END))


def as_message(row: dict) -> bytes:
    """A landed row back as the front end's message (absent rather than null)."""
    doc = {
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "event_ts": row["event_ts"].isoformat(timespec="milliseconds"),
        "user_id": row["user_id"],
        "session_id": row["session_id"],
        "movie_id": row["movie_id"],
        "payload": json.loads(row["payload"]),
    }
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


def test_history_rows_meet_the_contract_and_end_before_end(week, rules):
    n = 2 * week.num_rows + 17  # two whole copies and the newest rows of a third
    table = history(week, n)
    assert table.num_rows == n
    rows = table.to_pylist()
    for row in rows:
        verdict = check_event(as_message(row), now=END, rules=rules, topic=row["kafka_topic"])
        assert verdict.reason is None, (verdict.reason, verdict.detail, row)
        assert row["event_ts"] < row["kafka_timestamp"] < row["ingested_at"]
    stamps = [r["event_ts"] for r in rows]
    assert min(stamps) >= END - 3 * WEEK and max(stamps) < END
    assert len({r["event_id"] for r in rows}) == n
    comments = [json.loads(r["payload"]).get("comment_id") for r in rows]
    comments = [c for c in comments if c]
    assert comments and len(set(comments)) == len(comments)
    assert {r["event_type"] for r in rows} >= {"click", "watch"}


def test_history_is_deterministic_with_a_seed(week):
    n = week.num_rows + 5
    assert history(week, n).equals(history(week, n))
    other = history(week, n, seed=4)
    assert other.column("event_id") != history(week, n).column("event_id")
    # the seed only renames: same types, users and times
    assert other.column("event_ts").equals(history(week, n).column("event_ts"))


def test_uuid4_strings_are_version_4():
    ids = uuid4_strings(np.random.default_rng(1), 1000).to_pylist()
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 4 and str(u) == i for u, i in zip(parsed, ids, strict=True))
    assert len(set(ids)) == 1000


def test_history_copies_are_a_week_apart_and_do_not_overlap(week):
    first, second = history_chunks(2 * week.num_rows, week, seed=3, end=END)
    gap = second.column("event_ts")[0].as_py() - first.column("event_ts")[0].as_py()
    assert gap == timedelta(days=7)
    assert max(first.column("event_ts").to_pylist()) < min(second.column("event_ts").to_pylist())
