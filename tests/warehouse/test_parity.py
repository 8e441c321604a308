"""Parity: the same events and movies through Spark, pandas and dbt/PostgreSQL agree.

Rules compared: the event contract (which events are valid), watch completion
and its threshold, inactivity sessions (gap, keys, midnight, time zones), money
in millions with 0 as unknown, profit, ROI, the released filter, and the KPI
rankings with their thresholds (ROI budget, minimum votes), top N and ties.
Spark and pandas use ``streaming.transforms`` / ``streaming.pandas_transforms``
for the contract and ``tests.warehouse.rules_apply`` (the rules re-done apart
from the SQL) for the rest; dbt uses the macros generated from the same
``transform_rules.json``.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from psycopg.types.json import Jsonb

from moviepipe import db
from moviepipe.config import Settings
from moviepipe.rules import Rules, load_rules
from tests.warehouse.conftest import fresh_database, query, transform
from tests.warehouse.fixtures import M, land_movies, movie
from tests.warehouse.rules_apply import (
    RANKINGS,
    pandas_events,
    pandas_movies,
    pandas_top_movies,
    spark_events,
    spark_movies,
    spark_top_movies,
)

pytestmark = [pytest.mark.integration, pytest.mark.spark]

NOW = datetime(2024, 6, 1, tzinfo=UTC)
TOPIC = {
    "watch": "user_watch_log",
    "click": "user_click_log",
    "comment": "user_comment_log",
    "movie_update": "movie",
}
# Gaps around the 30-minute rule, and a start late in the day so sessions cross midnight.
GAPS_MIN = [0.5, 5, 29, 29.99, 30, 30.01, 31, 45, 120, 600, 1440]
WATCHES = [(900, 1000), (899.9, 1000), (1200, 1000), (0, 60), (5400, 5400.5), (1, 3)]


def _events(rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for user in ("u1", "u2", "u3", "u4", "u5"):
        t = datetime(2024, 3, 1, 22, 0, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 200))
        for _ in range(rng.randint(8, 16)):
            t += timedelta(minutes=rng.choice(GAPS_MIN), microseconds=rng.choice([0, 0, 123456]))
            etype = rng.choice(["watch", "watch", "click", "comment", "movie_update"])
            payload: dict[str, Any] = {
                "watch": lambda: dict(
                    zip(("watched_s", "duration_s"), rng.choice(WATCHES), strict=True),
                    position_s=10,
                ),
                "click": lambda: {"target": rng.choice(["poster", "trailer"])},
                "comment": lambda: {"text": "ok", "rating": rng.choice([0.5, 3, 4.5, 5])},
                "movie_update": lambda: {"action": "update", "fields": {"title": "x"}},
            }[etype]()
            # Some clients send a +02:00 offset: the instant is the same, sessions stay in UTC.
            off = rng.choice([timedelta(0), timedelta(hours=2)])
            local = (t + off).replace(tzinfo=None).isoformat(timespec="microseconds")
            ts_text = local + ("+02:00" if off else "Z")
            out.append(
                {
                    "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "event_type": etype,
                    "event_ts": ts_text,
                    "user_id": user,
                    "session_id": None,
                    "movie_id": rng.choice([201, 202, 203, 999]),
                    "payload": payload,
                }
            )
    return out


def _records(rng: random.Random) -> list[dict[str, Any]]:
    events = _events(rng)
    rng.shuffle(events)  # arrival order is not event order
    bad = [
        ("user_watch_log", {**events[0], "event_id": "not-a-uuid"}),
        ("user_click_log", {**events[1], "event_type": "purchase"}),
        ("user_watch_log", {**events[2], "event_ts": "2024-03-01 10:00"}),
    ]
    pairs = [(TOPIC[e["event_type"]], e) for e in events] + [
        (t, {**e, "event_id": str(uuid.UUID(int=rng.getrandbits(128)))}) for t, e in bad
    ]
    return [
        {
            "key": e["user_id"].encode(),
            "value": json.dumps(e).encode(),
            "topic": topic,
            "partition": 0,
            "offset": i,
            "timestamp": NOW,
        }
        for i, (topic, e) in enumerate(pairs)
    ]


MOVIES = [
    movie(
        201, "A", budget=100 * M, revenue=300 * M, popularity=9.5, vote_average=7.0, vote_count=10
    ),
    movie(
        202, "B", budget=50 * M, revenue=150 * M, popularity=9.5, vote_average=7.0, vote_count=500
    ),
    movie(203, "C", budget=10 * M, revenue=0, popularity=3.25, vote_average=8.1, vote_count=9),
    movie(
        204, "D", budget=9_999_999, revenue=99 * M, popularity=1.0, vote_average=2.0, vote_count=10
    ),
    movie(205, "E", budget=0, revenue=7 * M, popularity=0.5, vote_average=5.5, vote_count=11),
    movie(
        206,
        "F",
        budget=12_345_678,
        revenue=1_234_567,
        popularity=4.0,
        vote_average=6.5,
        vote_count=70,
    ),
    movie(
        207,
        "G",
        status="Rumored",
        budget=80 * M,
        revenue=900 * M,
        popularity=99.0,
        vote_average=9.9,
        vote_count=999,
    ),
    movie(208, "H", budget=33 * M, revenue=99 * M, popularity=4.0, vote_average=6.5, vote_count=71),
    movie(209, "I", budget=20 * M, revenue=20 * M, popularity=0.1, vote_average=3.0, vote_count=10),
    movie(210, "J", budget=25 * M, revenue=5 * M, popularity=7.7, vote_average=0.0, vote_count=0),
]
MOVIE_COLUMNS = [
    "movie_id",
    "status",
    "budget",
    "revenue",
    "popularity",
    "vote_average",
    "vote_count",
]


def _movie_rows() -> list[tuple]:
    return [
        (
            m["id"],
            m["status"],
            m["budget"],
            m["revenue"],
            float(m["popularity"]),
            float(m["vote_average"]),
            m["vote_count"],
        )
        for m in MOVIES
    ]


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return _records(random.Random(20240301))


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    from moviepipe.config import load_settings
    from moviepipe.spark import build_spark_session

    # Another test module may own a running session (getOrCreate returns it): stop only ours.
    existing = SparkSession.getActiveSession()
    session = existing or build_spark_session(load_settings(), "moviepipe-warehouse-parity")
    yield session
    if existing is None:
        session.stop()


@pytest.fixture(scope="module")
def via_spark(spark, records, rules) -> dict[str, Any]:
    from pyspark.sql import functions as F

    from streaming.transforms import KAFKA_SCHEMA
    from tests.streaming.engines import spark_parse_validate

    rows = [
        (r["key"], r["value"], r["topic"], r["partition"], r["offset"], r["timestamp"])
        for r in records
    ]
    valid, _ = spark_parse_validate(spark.createDataFrame(rows, KAFKA_SCHEMA), rules, now=NOW)
    events = spark_events(valid, rules).withColumn(
        "event_ts_text", F.date_format("event_ts", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")
    )
    movies = spark_movies(spark.createDataFrame(_movie_rows(), MOVIE_COLUMNS), rules)
    return {
        "events": {r["event_id"]: r.asDict() for r in events.collect()},
        "movies": {r["movie_id"]: r.asDict() for r in movies.collect()},
        "kpis": {kpi: spark_top_movies(movies, rules, kpi) for kpi in RANKINGS},
    }


@pytest.fixture(scope="module")
def via_pandas(records, rules) -> dict[str, Any]:
    from tests.streaming.engines import pandas_parse_validate

    valid, _ = pandas_parse_validate(pd.DataFrame(records), rules, now=NOW)
    events = pandas_events(valid, rules)
    movies = pandas_movies(pd.DataFrame(_movie_rows(), columns=MOVIE_COLUMNS), rules)
    return {
        "events": {r["event_id"]: r for r in events.to_dict("records")},
        "movies": {int(r["movie_id"]): r for r in movies.to_dict("records")},
        "kpis": {kpi: pandas_top_movies(movies, rules, kpi) for kpi in RANKINGS},
    }


@pytest.fixture(scope="module")
def parity_db(stack: Settings) -> Iterator[Settings]:
    with fresh_database(stack, "parity") as settings:
        yield settings


@pytest.fixture(scope="module")
def via_dbt(parity_db: Settings, via_spark) -> dict[str, Any]:
    """Land what Spark validated (the real landing path), then dbt build."""
    with db.connect(parity_db, "loader") as conn:
        for e in via_spark["events"].values():
            conn.execute(
                "insert into raw.user_events (event_id, event_type, event_ts, user_id, session_id,"
                " movie_id, payload, kafka_topic, kafka_partition, kafka_offset, run_id)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'parity')",
                (
                    e["event_id"],
                    e["event_type"],
                    e["event_ts_text"],
                    e["user_id"],
                    e["session_id"],
                    e["movie_id"],
                    Jsonb(json.loads(e["payload"])),
                    e["kafka_topic"],
                    e["kafka_partition"],
                    e["kafka_offset"],
                ),
            )
        land_movies(conn, MOVIES, run_id="parity")
    transform(parity_db, "--exclude", "test_type:unit")
    facts = query(parity_db, "select * from gold.fact_user_event")
    movies = query(parity_db, "select * from silver.movies_curated")
    kpis = {
        kpi: [
            r["movie_id"]
            for r in query(parity_db, f"select movie_id from gold.{kpi} order by rank")
        ]
        for kpi in RANKINGS
    }
    return {
        "events": {str(f["event_id"]): f for f in facts},
        "movies": {m["movie_id"]: m for m in movies},
        "kpis": kpis,
    }


def _num(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def test_same_valid_events(records, via_spark, via_pandas, via_dbt):
    assert len(records) > len(via_dbt["events"]) > 40  # the invalid ones were left out
    assert set(via_spark["events"]) == set(via_pandas["events"]) == set(via_dbt["events"])


def test_same_watch_completion(via_spark, via_pandas, via_dbt):
    watches = 0
    for event_id, d in via_dbt["events"].items():
        s, p = via_spark["events"][event_id], via_pandas["events"][event_id]
        expected = _num(d["watch_completion"])
        assert _num(s["watch_completion"]) == pytest.approx(expected, rel=1e-12)
        assert _num(p["watch_completion"]) == pytest.approx(expected, rel=1e-12)
        flag = d["is_completed"]
        assert s["is_completed"] == flag, event_id
        assert (None if pd.isna(p["is_completed"]) else bool(p["is_completed"])) == flag, event_id
        watches += d["event_type"] == "watch"
    assert watches > 10


def test_same_sessions(via_spark, via_pandas, via_dbt):
    dbt_keys = {e: d["session_key"] for e, d in via_dbt["events"].items()}
    assert {e: s["session_key"] for e, s in via_spark["events"].items()} == dbt_keys
    assert {e: p["session_key"] for e, p in via_pandas["events"].items()} == dbt_keys
    # the input really exercises the rule: several sessions per user on average
    assert len(set(dbt_keys.values())) > 10


def test_same_movie_money(via_spark, via_pandas, via_dbt):
    assert set(via_spark["movies"]) == set(via_pandas["movies"]) == set(via_dbt["movies"])
    assert 207 not in via_dbt["movies"]  # not released
    for movie_id, d in via_dbt["movies"].items():
        for col in ("budget_musd", "revenue_musd", "profit_musd", "roi"):
            expected = _num(d[col])
            for got in (via_spark["movies"][movie_id][col], via_pandas["movies"][movie_id][col]):
                assert _num(got) == pytest.approx(expected, rel=1e-12), (movie_id, col)


def test_same_kpi_rankings(via_spark, via_pandas, via_dbt):
    for kpi in RANKINGS:
        assert via_spark["kpis"][kpi] == via_pandas["kpis"][kpi] == via_dbt["kpis"][kpi], kpi
    assert via_dbt["kpis"]["kpi_highest_roi"][0] == 201  # D's 9,999,999 budget is under 10M
