"""The ``/api`` endpoints over the serving marts, the KPI marts and the movie search.

Every parameter is validated by FastAPI (422 with the standard validation body),
names that match nothing are 404 (:class:`NotFound`), and values reach SQL only as
bound parameters (:mod:`serving.api.queries`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.dependencies.utils import get_flat_dependant
from fastapi.exceptions import RequestValidationError
from psycopg_pool import AsyncConnectionPool
from pydantic import StringConstraints

from serving.api import models as m
from serving.api import queries as q
from serving.api.db import fetch_all, fetch_one

MAX_PAGE_SIZE = 100
MAX_TREND_PAGE_SIZE = 1000  # a year of days per page
MAX_OFFSET = 100_000
MAX_GENRES = 10
BIGINT_MAX = 2**63 - 1
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: reject it as a bad parameter

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": m.Problem, "description": "Unknown"}}


_ALLOWED_QUERY: dict[int, frozenset[str]] = {}


async def reject_unknown_query(request: Request) -> None:
    """A query parameter the route does not declare is a 422 (a typo such as ``limt=5``
    must not silently return the default page). ``async``: a plain ``def`` dependency
    runs in the thread pool, a thread hop that was a quarter of a top_movies request's
    profiled time."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _ALLOWED_QUERY.get(id(route))
    if allowed is None:
        allowed = frozenset(p.alias for p in get_flat_dependant(dependant).query_params)
        _ALLOWED_QUERY[id(route)] = allowed
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise RequestValidationError(
            [{"type": "extra_forbidden", "loc": ("query", name), "msg": "unknown parameter",
              "input": request.query_params.get(name)} for name in unknown]
        )  # fmt: skip


router = APIRouter(prefix="/api", dependencies=[Depends(reject_unknown_query)])


class NotFound(Exception):
    """A name or id the gold layer does not know; answered 404 with :class:`Problem`."""


def pool_of(request: Request) -> AsyncConnectionPool:
    return request.app.state.pool


def bad_param(name: str, message: str, value: Any) -> RequestValidationError:
    """A 422 shaped like FastAPI's own, for checks that span parameters."""
    error = {"type": "value_error", "loc": ("query", name), "msg": message, "input": value}
    return RequestValidationError([error])


GenreName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_NUL)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


def text_query(description: str, **kwargs: Any) -> Any:
    """An optional free-text parameter: 1 to 200 characters, no NUL."""
    return Query(min_length=1, max_length=200, pattern=NO_NUL, description=description, **kwargs)


@router.get(
    "/top_movies",
    response_model=m.TopMovies,
    responses=NOT_FOUND,
    summary="Movies ranked per period, genre and metric",
)
async def top_movies(
    request: Request,
    limit: Limit = 10,
    offset: Offset = 0,
    genre: Annotated[
        str,
        Query(
            min_length=1,
            max_length=100,
            pattern=NO_NUL,
            description="A genre name as in gold.dim_genre, or `all`.",
            openapi_examples={"all": {"value": "all"}, "genre": {"value": "Drama"}},
        ),
    ] = "all",
    period: Annotated[m.Period, Query(description="`all`, or the last 7/30/90 days.")] = "all",
    metric: Annotated[m.Metric, Query(description="What the rank is on.")] = "engagement",
) -> m.TopMovies:
    pool = pool_of(request)
    params = {"period": period, "genre": genre, "metric": metric, "limit": limit, "offset": offset}
    rows = await fetch_all(pool, q.TOP_MOVIES, params)
    if not rows and genre != "all" and not await fetch_one(pool, q.GENRE_EXISTS, params):
        raise NotFound(f"unknown genre: {genre!r}")
    first = rows[0] if rows else {}
    return m.TopMovies(
        period=period,
        genre=genre,
        metric=metric,
        as_of_date=first.get("as_of_date"),
        period_start_date=first.get("period_start_date"),
        page=m.Page(limit=limit, offset=offset, returned=len(rows)),
        items=[m.TopMovie.model_validate(r) for r in rows],
    )


@router.get(
    "/user_stats",
    response_model=m.UserStats,
    responses=NOT_FOUND,
    summary="One user's activity and sentiment, or every user's",
)
async def user_stats(
    request: Request,
    user_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            pattern=NO_NUL,
            description="The application's user id; omit it for the aggregate over every user.",
            openapi_examples={"user": {"value": "u1"}},
        ),
    ] = None,
) -> m.UserStats:
    pool = pool_of(request)
    if user_id is None:
        row = await fetch_one(pool, q.USER_STATS_OVERALL)
        if row is None:
            raise NotFound("no user statistics yet: gold.user_stats_overall is empty")
        count = row["user_count"]
    else:
        row = await fetch_one(pool, q.USER_STATS, {"user_id": user_id})
        if row is None:
            raise NotFound(f"unknown user: {user_id!r}")
        count = 1
    stats = {**row, "favourite_genres": q.split_list(row.get("favourite_genres"))}
    return m.UserStats(
        scope="all" if user_id is None else "user",
        user_id=user_id,
        user_count=count,
        stats=m.UserStatsMeasures.model_validate(stats),
    )


@router.get(
    "/emotion_trends",
    response_model=m.EmotionTrends,
    responses=NOT_FOUND,
    summary="Comment sentiment per day or week, for one movie or one genre",
)
async def emotion_trends(
    request: Request,
    movie_id: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="A movie (or give `genre`).")
    ] = None,
    genre: Annotated[
        str | None,
        Query(min_length=1, max_length=100, pattern=NO_NUL, description="A genre name."),
    ] = None,
    granularity: Annotated[m.Granularity, Query()] = "day",
    date_from: Annotated[date | None, Query(description="First period start (inclusive).")] = None,
    date_to: Annotated[date | None, Query(description="Last period start (inclusive).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_TREND_PAGE_SIZE)] = 366,
    offset: Offset = 0,
) -> m.EmotionTrends:
    if (movie_id is None) == (genre is None):
        raise bad_param("movie_id", "give exactly one of movie_id and genre", movie_id)
    if not q.day_range_ok(date_from, date_to):
        raise bad_param("date_from", "date_from is after date_to", str(date_from))
    pool = pool_of(request)
    scope = "movie" if movie_id is not None else "genre"
    params = {
        "scope": scope,
        "key": movie_id if movie_id is not None else genre,
        "granularity": granularity,
        "date_from": date_from,
        "date_to": date_to,
        "limit": limit,
        "offset": offset,
        "movie_id": movie_id,
        "genre": genre,
    }
    rows = await fetch_all(pool, q.emotion_trends(scope), params)
    if not rows:
        exists = q.MOVIE_EXISTS if scope == "movie" else q.GENRE_EXISTS
        if not await fetch_one(pool, exists, params):
            raise NotFound(f"unknown {scope}: {params['key']!r}")
    return m.EmotionTrends(
        scope=scope,
        movie_id=movie_id,
        genre=genre,
        granularity=granularity,
        date_from=date_from,
        date_to=date_to,
        page=m.Page(limit=limit, offset=offset, returned=len(rows)),
        items=[m.EmotionPoint.model_validate(r) for r in rows],
    )


@router.get("/kpis", response_model=list[m.KpiInfo], summary="The KPI marts")
async def kpi_list() -> list[m.KpiInfo]:
    return [m.KpiInfo(name=name, description=d) for name, (_, _, d) in q.KPIS.items()]


@router.get(
    "/kpis/{name}",
    response_model=m.Kpi,
    responses=NOT_FOUND,
    summary="One KPI mart, every row",
)
async def kpi(
    request: Request,
    name: Annotated[
        str,
        Path(
            max_length=100,
            description=f"One of: {', '.join(q.KPIS)}.",
            openapi_examples={"revenue": {"value": "highest_revenue"}},
        ),
    ],
) -> m.Kpi:
    if name not in q.KPIS:
        raise NotFound(f"unknown KPI: {name!r} (known: {', '.join(q.KPIS)})")
    async with pool_of(request).connection() as conn, conn.cursor() as cur:
        await cur.execute(q.kpi_query(name))
        rows = await cur.fetchall()
        columns = [d.name for d in cur.description or []]
    return m.Kpi(name=name, description=q.KPIS[name][2], columns=columns, rows=rows)  # type: ignore[arg-type]


@router.get(
    "/movies/search",
    response_model=m.MovieSearch,
    responses=NOT_FOUND,
    summary="Search movies by title words, genres, cast, director and years",
)
async def search_movies(
    request: Request,
    q_: Annotated[
        str | None,
        text_query(
            "Words that must all appear in the title (any case).",
            alias="q",
            openapi_examples={"title": {"value": "alpha"}},
        ),
    ] = None,
    genre: Annotated[
        list[GenreName] | None,
        Query(
            max_length=MAX_GENRES,
            description=f"Repeatable (at most {MAX_GENRES}); a movie must have every one.",
            openapi_examples={"two": {"value": ["Action", "Adventure"]}},
        ),
    ] = None,
    cast: Annotated[str | None, text_query("Part of a top-billed cast member's name.")] = None,
    director: Annotated[str | None, text_query("Part of a director's name.")] = None,
    year_from: Annotated[int | None, Query(ge=1800, le=2200)] = None,
    year_to: Annotated[int | None, Query(ge=1800, le=2200)] = None,
    sort: m.SearchSort = "popularity",
    order: m.Order = "desc",
    limit: Limit = 20,
    offset: Offset = 0,
) -> m.MovieSearch:
    genres = tuple(genre or ())
    if year_from is not None and year_to is not None and year_from > year_to:
        raise bad_param("year_from", "year_from is after year_to", year_from)
    params = q.SearchParams(
        q=q_,
        genres=genres,
        cast=cast,
        director=director,
        year_from=year_from,
        year_to=year_to,
        sort=sort,
        order=order,
        limit=limit,
        offset=offset,
    )
    pool = pool_of(request)
    rows = await fetch_all(pool, *q.search_movies(params))
    if rows:
        total = rows[0]["total"]
    else:
        if genres:
            wanted = sorted({g.lower() for g in genres})
            known = await fetch_one(pool, q.GENRES_KNOWN, {"genres": wanted})
            if known is None or known["known"] < len(wanted):
                raise NotFound(f"unknown genre among: {', '.join(genres)}")
        total = (await fetch_one(pool, *q.search_count(params)) or {"total": 0})["total"]
    items = [
        m.MovieHit.model_validate(
            {**r, **{k: q.split_list(r[k]) for k in ("genres", "directors", "top_cast")}}
        )
        for r in rows
    ]
    return m.MovieSearch(
        total=total,
        sort=sort,
        order=order,
        page=m.Page(limit=limit, offset=offset, returned=len(items)),
        items=items,
    )
