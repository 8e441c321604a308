"""What each chart reads from gold, as the reader role.

One SQL query per chart; :func:`fetch` runs it and returns a pandas frame. A
relation that does not exist yet (a serving mart before its first publish) is
an empty frame, so the chart says "no data yet" instead of failing.

Usage::

    from serving.charts.data import fetch, QUERIES
    frames = fetch(settings, QUERIES)          # {"revenue_vs_budget": DataFrame, ...}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import psycopg
from psycopg import sql

from moviepipe.config import Settings
from moviepipe.rules import load_rules


@dataclass(frozen=True)
class Query:
    """The rows behind one chart: ``sql`` over ``source`` (named in the empty-data message)."""

    source: str
    sql: str
    columns: tuple[str, ...]


def queries() -> dict[str, Query]:
    """The query of every chart, with the business rules' thresholds filled in."""
    movies = load_rules().movies
    threshold = movies.roi_min_budget_musd
    separator = movies.list_separator
    return {
        "revenue_vs_budget": Query(
            "gold.dim_movie",
            "select title, budget_musd::float8 as budget_musd,"
            " revenue_musd::float8 as revenue_musd, is_franchise"
            " from gold.dim_movie"
            " where budget_musd is not null and revenue_musd is not null",
            ("title", "budget_musd", "revenue_musd", "is_franchise"),
        ),
        "roi_by_genre_bar": Query(
            "gold.dim_movie",
            "select genre, count(*)::int as movie_count,"
            " (percentile_cont(0.5) within group (order by roi))::float8 as median_roi"
            " from gold.dim_movie"
            f" cross join lateral unnest(string_to_array(genres, '{separator}')) as genre"
            f" where roi is not null and budget_musd >= {threshold:g} and genre <> ''"
            " group by genre order by median_roi desc, genre",
            ("genre", "movie_count", "median_roi"),
        ),
        "popularity_vs_rating": Query(
            "gold.dim_movie",
            "select popularity::float8 as popularity, vote_average::float8 as vote_average,"
            " vote_count, is_franchise from gold.dim_movie"
            f" where vote_count >= {movies.rating_min_votes} and popularity > 0",
            ("popularity", "vote_average", "vote_count", "is_franchise"),
        ),
        "yearly_trends": Query(
            "gold.dim_movie",
            "select release_year, count(*)::int as movie_count,"
            " coalesce(sum(budget_musd), 0)::float8 as budget_musd,"
            " coalesce(sum(revenue_musd), 0)::float8 as revenue_musd"
            " from gold.dim_movie where release_year is not null"
            " group by release_year order by release_year",
            ("release_year", "movie_count", "budget_musd", "revenue_musd"),
        ),
        "franchise_vs_standalone": Query(
            "gold.kpi_franchise_vs_standalone",
            "select movie_group, movie_count, mean_revenue_musd::float8 as mean_revenue_musd,"
            " median_roi::float8 as median_roi, mean_budget_musd::float8 as mean_budget_musd,"
            " mean_popularity::float8 as mean_popularity, mean_rating::float8 as mean_rating"
            " from gold.kpi_franchise_vs_standalone"
            " where movie_count > 0 order by movie_group",
            (
                "movie_group",
                "movie_count",
                "mean_revenue_musd",
                "median_roi",
                "mean_budget_musd",
                "mean_popularity",
                "mean_rating",
            ),
        ),
        "emotion_trends": Query(
            "gold.emotion_trends",
            # movie rows count each comment once (a genre row counts it per genre)
            "select granularity, period_start, sum(positive_count)::int as positive,"
            " sum(neutral_count)::int as neutral, sum(negative_count)::int as negative"
            " from gold.emotion_trends where scope = 'movie'"
            " group by granularity, period_start order by granularity, period_start",
            ("granularity", "period_start", "positive", "neutral", "negative"),
        ),
        "engagement_by_hour": Query(
            "gold.fact_user_event",
            "select extract(isodow from event_ts at time zone 'UTC')::int as weekday,"
            " extract(hour from event_ts at time zone 'UTC')::int as hour,"
            " count(*)::int as events"
            " from gold.fact_user_event group by 1, 2 order by 1, 2",
            ("weekday", "hour", "events"),
        ),
    }


def relation_exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def fetch_one(conn: psycopg.Connection, query: Query) -> pd.DataFrame:
    """The rows of ``query``; an empty frame (right columns) when its source is missing."""
    if not relation_exists(conn, query.source):
        return pd.DataFrame(columns=list(query.columns))
    with conn.cursor() as cur:
        cur.execute(sql.SQL(query.sql))  # type: ignore[arg-type]  # built from constants
        rows = cur.fetchall()
    return pd.DataFrame(rows, columns=list(query.columns))


def fetch(settings: Settings, wanted: Mapping[str, Query]) -> dict[str, pd.DataFrame]:
    """Every query of ``wanted`` in one read-only transaction, as the reader role."""
    with psycopg.connect(**settings.pg_conninfo("reader")) as conn:
        conn.read_only = True
        return {name: fetch_one(conn, query) for name, query in wanted.items()}
