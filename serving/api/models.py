"""Pydantic response models of the REST API: the serving marts' contract (docs/enrich.md).

Numeric columns arrive as floats (the pool's connections load ``numeric`` as
``float``), dates and timestamps as ISO strings in JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Period = Literal["all", "7d", "30d", "90d"]
Metric = Literal["engagement", "watch_time", "rating", "tmdb_rating"]
Granularity = Literal["day", "week"]
SearchSort = Literal["rating", "popularity", "runtime", "revenue", "release_date"]
Order = Literal["asc", "desc"]


class Problem(BaseModel):
    """An error that is not a parameter's validation (404, 503)."""

    detail: str = Field(examples=["unknown genre: 'Cowboys'"])


class Page(BaseModel):
    limit: int = Field(examples=[10])
    offset: int = Field(examples=[0])
    returned: int = Field(description="Items in this page.", examples=[10])


class TopMovie(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rank": 1,
                    "movie_id": 900000001,
                    "title": "The Quiet Orbit",
                    "release_year": 2019,
                    "metric_value": 42.0,
                    "engaged_users": 42,
                    "event_count": 310,
                    "watch_count": 120,
                    "watched_s": 380000.0,
                    "completed_watch_count": 70,
                    "comment_count": 25,
                    "rating_count": 30,
                    "mean_rating": 3.9,
                    "positive_share": 0.64,
                    "vote_average": 7.4,
                    "vote_count": 1520,
                }
            ]
        }
    )

    rank: int
    movie_id: int
    title: str
    release_year: int | None
    metric_value: float | None = Field(description="The value ranked on (descending).")
    engaged_users: int | None
    event_count: int | None
    watch_count: int | None
    watched_s: float | None
    completed_watch_count: int | None
    comment_count: int | None
    rating_count: int | None
    mean_rating: float | None
    positive_share: float | None
    vote_average: float | None
    vote_count: int | None


class TopMovies(BaseModel):
    period: Period
    genre: str = Field(examples=["all", "Science Fiction"])
    metric: Metric
    as_of_date: date | None = Field(description="Day of the latest event; null with no rows.")
    period_start_date: date | None
    page: Page
    items: list[TopMovie]


class Sentiment(BaseModel):
    """Scored comments per label; shares are over scored comments (null without one)."""

    positive_count: int
    neutral_count: int
    negative_count: int
    positive_share: float | None
    neutral_share: float | None
    negative_share: float | None
    mean_sentiment_score: float | None


class UserStatsMeasures(Sentiment):
    first_event_ts: datetime | None
    last_event_ts: datetime | None
    session_count: int
    event_count: int
    mean_session_duration_s: float | None
    watch_count: int
    watched_s: float | None
    completed_watch_count: int
    completion_rate: float | None
    movie_count: int
    favourite_genres: list[str] = Field(
        description="Up to 3 genre names, by seconds watched.", examples=[["Drama", "Comedy"]]
    )
    comment_count: int
    scored_comment_count: int
    mean_rating: float | None


class UserStats(BaseModel):
    scope: Literal["user", "all"] = Field(description="`user` for one user, `all` otherwise.")
    user_id: str | None = Field(examples=["u_0042"])
    user_count: int = Field(description="Users the measures cover (1 for one user).")
    stats: UserStatsMeasures


class EmotionPoint(Sentiment):
    period_start: date
    period_end: date
    comment_count: int
    scored_count: int


class EmotionTrends(BaseModel):
    scope: Literal["movie", "genre"]
    movie_id: int | None
    genre: str | None
    granularity: Granularity
    date_from: date | None
    date_to: date | None
    page: Page
    items: list[EmotionPoint]


class KpiInfo(BaseModel):
    name: str = Field(examples=["highest_revenue"])
    description: str


class Kpi(BaseModel):
    name: str = Field(examples=["highest_revenue"])
    description: str
    columns: list[str] = Field(examples=[["rank", "movie_id", "title", "revenue_musd"]])
    rows: list[dict[str, Any]] = Field(
        examples=[
            [
                {
                    "rank": 1,
                    "movie_id": 900000001,
                    "title": "The Quiet Orbit",
                    "release_year": 2019,
                    "revenue_musd": 2787.97,
                }
            ]
        ]
    )


class MovieHit(BaseModel):
    movie_id: int = Field(examples=[900000001])
    title: str = Field(examples=["The Quiet Orbit"])
    release_date: date | None
    release_year: int | None
    runtime_min: int | None
    genres: list[str] = Field(examples=[["Science Fiction", "Drama"]])
    directors: list[str]
    top_cast: list[str]
    vote_average: float | None
    vote_count: int | None
    popularity: float | None
    revenue_musd: float | None


class MovieSearch(BaseModel):
    total: int = Field(description="Movies matching, over every page.", examples=[3])
    sort: SearchSort
    order: Order
    page: Page
    items: list[MovieHit]


class GateStatus(BaseModel):
    run_id: str | None
    success: bool | None = Field(description="Every checkpoint of the latest gate run passed.")
    checked_at: datetime | None
    failed_checkpoints: list[str]


class PublishStatus(BaseModel):
    action: str = Field(examples=["publish"])
    run_id: str | None
    published_at: datetime


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="`ok`: database reachable and gold built; `degraded`: gold missing or empty."
    )
    database: bool
    gold_schema_oid: int | None = Field(description="The physical schema now published as gold.")
    gold_as_of_date: date | None = Field(description="Day of the latest event in gold.")
    gold_lag_days: int | None = Field(description="Days between today (UTC) and that day.")
    gate: GateStatus | None = Field(description="Null when the reader may not see ops.")
    last_publish: PublishStatus | None
    detail: str | None = None
