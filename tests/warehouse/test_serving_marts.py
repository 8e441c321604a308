"""The serving marts and comments_scored, built by the real `moviepipe enrich` + `transform`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from moviepipe import db
from moviepipe.config import Settings
from tests.warehouse import fixtures
from tests.warehouse.conftest import fresh_database, moviepipe, query, transform


@pytest.fixture(scope="module")
def served(stack: Settings) -> Iterator[dict[str, Any]]:
    with fresh_database(stack, "serving") as settings:
        with db.connect(settings, "loader") as conn:
            fixtures.land_run1(conn)
        proc = moviepipe(settings, "enrich", "--json")
        assert proc.returncode == 0, proc.stderr
        transform(settings)
        seen: dict[str, Any] = {"settings": settings, "enrich": proc.stdout}
        for table in ("top_movies", "user_stats", "user_stats_overall", "emotion_trends"):
            seen[table] = query(settings, f"select * from gold.{table}")
        seen["comments_scored"] = query(settings, "select * from silver.comments_scored")
        yield seen


def test_every_comment_is_scored_once(served: dict[str, Any]) -> None:
    comments = served["comments_scored"]
    assert comments, "the fixtures have comments"
    assert len({c["event_id"] for c in comments}) == len(comments)
    by_text = {c["comment_text"]: c for c in comments}
    assert by_text["great"]["sentiment_label"] == "positive"
    assert all(c["scorer_name"] == "lexicon" for c in comments)


def test_user_stats_agree_with_overall(served: dict[str, Any]) -> None:
    users, overall = served["user_stats"], served["user_stats_overall"]
    assert len(overall) == 1
    total = overall[0]
    assert total["user_count"] == len(users)
    for column in ("event_count", "session_count", "comment_count", "watch_count"):
        assert total[column] == sum(u[column] for u in users), column
    for u in users:
        if u["completion_rate"] is not None:
            assert 0 <= u["completion_rate"] <= 1


def test_top_movies_ranks_are_dense_per_list(served: dict[str, Any]) -> None:
    lists: dict[tuple, list[int]] = {}
    for row in served["top_movies"]:
        lists.setdefault((row["period"], row["genre"], row["metric"]), []).append(row["rank"])
    assert any(k[1] == "all" and k[2] == "engagement" for k in lists)
    for ranks in lists.values():
        assert sorted(ranks) == list(range(1, len(ranks) + 1))


def test_emotion_trend_shares(served: dict[str, Any]) -> None:
    rows = served["emotion_trends"]
    assert {r["scope"] for r in rows} >= {"movie"}
    assert {r["granularity"] for r in rows} == {"day", "week"}
    for r in rows:
        counted = r["positive_count"] + r["neutral_count"] + r["negative_count"]
        assert counted == r["scored_count"] <= r["comment_count"]
        if r["scored_count"]:
            total = r["positive_share"] + r["neutral_share"] + r["negative_share"]
            assert abs(total - 1) <= 0.0003
    days = sum(
        r["comment_count"] for r in rows if r["scope"] == "movie" and r["granularity"] == "day"
    )
    assert days == len([c for c in served["comments_scored"] if c["movie_id"] is not None])
