"""Producer sources: the seeded simulator and the MovieLens replay give valid, stable events."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path

import pandas as pd
import pytest

from moviepipe.config import load_settings
from moviepipe.events import ENVELOPE_FIELDS, PAYLOAD_FIELDS, canonical_form_regex, check_event
from streaming.sources import (
    EVENTS_PER_SESSION,
    canonical_event,
    movielens_events,
    simulate_events,
    sittings,
    spread_until,
)

START = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday


def test_simulator_is_deterministic_and_valid(rules):
    events = list(simulate_events(3000, seed=11, movie_ids=[603, 604, 605], start=START))
    assert events == list(simulate_events(3000, seed=11, movie_ids=[603, 604, 605], start=START))
    assert events != list(simulate_events(3000, seed=12, movie_ids=[603, 604, 605], start=START))
    assert len(events) == 3000
    assert len({e["event_id"] for e in events}) == 3000
    now = datetime.now(UTC)
    reasons = Counter(
        check_event(json.dumps(e).encode(), now=now, rules=rules).reason for e in events
    )
    assert reasons == {None: 3000}
    types = Counter(e["event_type"] for e in events)
    assert types["watch"] and types["click"] and types["comment"]
    assert {e["movie_id"] for e in events} <= {603, 604, 605}


def test_simulator_has_daily_rhythm(rules):
    events = list(simulate_events(20000, seed=3, start=START))
    hours = Counter(datetime.fromisoformat(e["event_ts"]).hour for e in events)
    evening = sum(hours[h] for h in (19, 20, 21))
    night = sum(hours[h] for h in (3, 4, 5))
    assert evening > 3 * night


def _write(path: Path, header: str, rows: list[str]) -> None:
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode())  # CRLF as distributed


def test_movielens_mapping_and_skips(tmp_path, rules):
    _write(tmp_path / "links.csv", "movieId,imdbId,tmdbId", ["1,114709,862", "2,113497,"])
    _write(
        tmp_path / "ratings.csv",
        "userId,movieId,rating,timestamp",
        ["1,1,4.0,964982703", "1,2,3.5,964981247", "7,1,0.5,1000000000"],
    )
    _write(
        tmp_path / "tags.csv",
        "userId,movieId,tag,timestamp",
        ['2,1,"pixar, funny",1445714994', "2,2,fun,1445714996"],
    )
    replay = movielens_events(tmp_path)
    events = list(replay)
    assert replay.skipped == 2  # the rating and the tag of movie 2, which has no TMDB id
    assert [e["event_type"] for e in events] == ["watch", "watch", "comment"]
    assert {e["movie_id"] for e in events} == {862}
    watch = events[0]
    assert watch["user_id"] == "1"
    # canonical: the star rating stays only where the contract names it
    has_rating = any(n == "rating" for n, _, _ in PAYLOAD_FIELDS["watch"])
    assert watch["payload"].get("rating") == (4.0 if has_rating else None)
    # the skipped rating 24 minutes earlier began user 1's sitting
    sessions = [e["session_id"] for e in events]
    assert sessions == ["ml-1-964981247", "ml-7-1000000000", "ml-2-1445714994"]
    assert sessions == [e["session_id"] for e in movielens_events(tmp_path)]
    assert watch["event_ts"].startswith("2000-07-30T")  # 964982703, original time kept
    assert events[2]["payload"]["text"] == "pixar, funny"
    assert [e["event_id"] for e in events] == [e["event_id"] for e in movielens_events(tmp_path)]
    assert next(movielens_events(tmp_path)) == events[0]
    now = datetime.now(UTC)
    assert all(check_event(json.dumps(e).encode(), now=now, rules=rules).event for e in events)


def test_movielens_real_data_is_valid(rules):
    """Every replayed event, as the producer writes it, is valid and in the canonical form
    the fast paths prove (so none takes the exact path): the contract's form regex with
    any JSON scalar for each field kind (the validator proves the types), and the bytes
    the canonical serializer writes for the same event."""
    kinds = {kind for _, kind, _ in [*ENVELOPE_FIELDS, *chain(*PAYLOAD_FIELDS.values())]}
    scalar = r'(?:"(?:[^"\\]|\\[^u])*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)'
    regex = canonical_form_regex({k: scalar for k in kinds - {"object"}})
    form = re.compile(regex.replace(r"\z", r"\Z"))  # Python spells the end \Z
    order = [n for n, _, _ in ENVELOPE_FIELDS]
    replay = movielens_events(load_settings().moviepipe_data_dir / "movielens_small")
    now = datetime.now(UTC) + timedelta(seconds=1)
    n = 0
    sessions = set()
    for e in replay:
        value = json.dumps(e, separators=(",", ":")).encode()  # as streaming.producer sends it
        assert check_event(value, now=now, rules=rules).reason is None, e
        assert form.match(value.decode()), value
        back = json.loads(value)
        assert json.dumps(canonical_event(back, back["payload"]), separators=(",", ":")) == (
            value.decode()
        )
        assert list(e) == order, e  # session_id is always set: every field, contract order
        sessions.add(e["session_id"])
        n += 1
    assert replay.skipped > 0
    assert n + replay.skipped == 100_836 + 3_683
    assert 1_000 < len(sessions) < n / 5  # sittings of several events


def test_sittings_split_after_the_gap():
    users = pd.Series([5, 5, 5, 6, 5, 5], index=[10, 11, 12, 13, 14, 15])
    seconds = pd.Series([100, 1900, 1000, 1000, 5000, 6799])  # any order
    seconds.index = users.index
    got = sittings(users, seconds, gap_s=1800).tolist()
    assert got == ["ml-5-100", "ml-5-100", "ml-5-100", "ml-6-1000", "ml-5-5000", "ml-5-5000"]


def test_canonical_event_orders_and_drops():
    values = {"movie_id": 3, "payload": None, "session_id": None, "user_id": "u",
              "event_ts": "2024-01-01T00:00:00Z", "event_type": "comment",
              "event_id": "e"}  # fmt: skip
    doc = canonical_event(values, {"rating": 4.0, "extra": 1, "text": "ok", "comment_id": None})
    assert list(doc) == ["event_id", "event_type", "event_ts", "user_id", "movie_id", "payload"]
    assert doc["payload"] == {"text": "ok", "rating": 4.0}
    # what the reference reads back, in canonical form, is the very bytes sent
    value = json.dumps(doc, separators=(",", ":"))
    back = json.loads(value)
    assert json.dumps(canonical_event(back, back["payload"]), separators=(",", ":")) == value


@pytest.mark.integration
def test_movie_ids_from_warehouse_then_sample(pg_settings):
    from moviepipe import db
    from streaming.sources import warehouse_movie_ids

    no_warehouse = pg_settings.model_copy(update={"pgdatabase": "mp_no_such_database"})
    sample_ids = warehouse_movie_ids(no_warehouse)  # the sample shipped by the extract step
    assert len(sample_ids) > 10
    with db.connect(pg_settings, "loader") as conn:
        conn.execute(
            "insert into raw.tmdb_movies (movie_id, payload, payload_hash, run_id)"
            " values (987654321, '{}', 'h', 'streaming-test') on conflict do nothing"
        )
    try:
        assert 987654321 in warehouse_movie_ids(pg_settings)
    finally:
        with db.connect(pg_settings, "loader") as conn:
            conn.execute("delete from raw.tmdb_movies where run_id = 'streaming-test'")


def test_spread_until_defaults_to_a_week_from_midnight():
    now = datetime(2024, 6, 5, 15, 30, tzinfo=UTC)
    start, per_hour = spread_until(10_000, now)
    assert start == datetime(2024, 5, 29, tzinfo=UTC)
    hours = (now - start).total_seconds() / 3600
    assert per_hour == pytest.approx(10_000 / EVENTS_PER_SESSION / hours)
    naive, _ = spread_until(10, now, datetime(2024, 6, 5, 15))
    assert naive == datetime(2024, 6, 5, 15, tzinfo=UTC)
    assert spread_until(1, now, naive)[1] == 1.0  # at least one session an hour
    assert spread_until(12, now, naive)[1] == 2.0  # over at least an hour


@pytest.mark.parametrize("n", [1_000, 20_000])
def test_spread_events_stay_between_start_and_now(rules, n):
    now = datetime(2024, 6, 5, 15, 30, tzinfo=UTC)
    start, per_hour = spread_until(n, now)
    events = list(simulate_events(n, 2, start=start, sessions_per_hour=per_hour))
    stamps = [datetime.fromisoformat(e["event_ts"]) for e in events]
    assert start <= min(stamps)
    # never rejected as future_timestamp, and the week is really used
    assert max(stamps) <= now + timedelta(seconds=rules.events.max_future_skew_seconds)
    assert max(stamps) - min(stamps) > timedelta(days=4)
