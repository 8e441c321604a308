"""The SQL of every endpoint, as pure functions of validated parameters.

Only fixed fragments and the fixed table and column names below become SQL text;
every value a client sends is a bound parameter (``%(name)s``). Nothing here does I/O.

Usage::

    query, params = search_movies(SearchParams(q="star", genres=("Drama",)))
    rows = await fetch_all(pool, query, params)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

# KPI marts: URL name -> (table, order by, what it is). tests check it against dbt's kpi/.
KPIS: dict[str, tuple[str, str, str]] = {
    "highest_revenue": ("kpi_highest_revenue", "rank", "Top movies by revenue (M USD)."),
    "highest_budget": ("kpi_highest_budget", "rank", "Top movies by budget (M USD)."),
    "highest_profit": ("kpi_highest_profit", "rank", "Top movies by profit (M USD)."),
    "highest_roi": ("kpi_highest_roi", "rank", "Top movies by revenue / budget."),
    "lowest_roi": ("kpi_lowest_roi", "rank", "Bottom movies by revenue / budget."),
    "highest_rated": ("kpi_highest_rated", "rank", "Top movies by TMDB vote average."),
    "lowest_rated": ("kpi_lowest_rated", "rank", "Bottom movies by TMDB vote average."),
    "most_popular": ("kpi_most_popular", "rank", "Top movies by TMDB popularity."),
    "top_directors": ("kpi_top_directors", "rank", "Top directors by total revenue."),
    "top_franchises": ("kpi_top_franchises", "rank", "Top franchises by total revenue."),
    "franchise_vs_standalone": (
        "kpi_franchise_vs_standalone",
        "movie_group",
        "Franchise movies against standalone ones (two rows).",
    ),
}

SEARCH_SORT_COLUMNS = {
    "rating": "vote_average",
    "popularity": "popularity",
    "runtime": "runtime_min",
    "revenue": "revenue_musd",
    "release_date": "release_date",
}

TOP_MOVIES = """
select rank, movie_id, title, release_year, metric_value, engaged_users, event_count,
       watch_count, watched_s, completed_watch_count, comment_count, rating_count,
       mean_rating, positive_share, vote_average, vote_count, as_of_date, period_start_date
from gold.top_movies
where period = %(period)s and genre = %(genre)s and metric = %(metric)s
order by rank
limit %(limit)s offset %(offset)s
"""

GENRE_EXISTS = "select 1 as found from gold.dim_genre where genre_name = %(genre)s"
GENRES_KNOWN = (
    "select count(distinct lower(genre_name)) as known from gold.dim_genre"
    " where lower(genre_name) = any(%(genres)s)"
)
MOVIE_EXISTS = """
select 1 as found from gold.dim_movie where movie_id = %(movie_id)s
union all
select 1 from gold.emotion_trends where scope = 'movie' and movie_id = %(movie_id)s
limit 1
"""
USER_STATS = "select * from gold.user_stats where user_id = %(user_id)s"
USER_STATS_OVERALL = "select * from gold.user_stats_overall limit 1"

EMOTION_TRENDS = """
select period_start, period_end, comment_count, scored_count, positive_count,
       neutral_count, negative_count, positive_share, neutral_share, negative_share,
       mean_sentiment_score
from gold.emotion_trends
where scope = %(scope)s and {key} = %(key)s and granularity = %(granularity)s
  and period_start >= coalesce(%(date_from)s::date, '-infinity'::date)
  and period_start <= coalesce(%(date_to)s::date, 'infinity'::date)
order by period_start
limit %(limit)s offset %(offset)s
"""


# Plain strings built once from the fixed names above (lowercase identifiers that need
# no quoting): nothing is composed per request.
_TRENDS = {scope: EMOTION_TRENDS.format(key=key)
           for scope, key in (("movie", "movie_id"), ("genre", "genre"))}  # fmt: skip
_KPI_QUERIES = {name: f"select * from gold.{table} order by {order}"
                for name, (table, order, _) in KPIS.items()}  # fmt: skip


def emotion_trends(scope: str) -> str:
    """The trend query of one scope: ``movie`` keys on movie_id, ``genre`` on genre."""
    return _TRENDS[scope]


def kpi_query(name: str) -> str:
    """``select *`` from a KPI mart named in :data:`KPIS` (KeyError otherwise)."""
    return _KPI_QUERIES[name]


def like_pattern(text: str) -> str:
    """``%text%`` for ILIKE with the client's ``%``, ``_`` and ``\\`` matched literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class SearchParams:
    q: str | None = None
    genres: tuple[str, ...] = ()
    cast: str | None = None
    director: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    sort: str = "popularity"
    order: str = "desc"
    limit: int = 20
    offset: int = 0


SEARCH_COLUMNS = """
select movie_id, title, release_date, release_year, runtime_min, genres, directors, top_cast,
       vote_average, vote_count, popularity, revenue_musd, count(*) over () as total
from gold.dim_movie
"""
_NAME_IN_LIST = (
    "exists (select 1 from unnest(string_to_array({column}, '|')) as n (name)"
    " where n.name ilike %({param})s)"
)


def search_filters(p: SearchParams) -> tuple[list[str], dict[str, Any]]:
    """The ``where`` conditions (fixed text) and their bound values."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    words = p.q.split() if p.q else []
    if words:
        # Every word must appear in the title (or the original title), in any order.
        conditions.append("(title ilike all(%(q)s) or original_title ilike all(%(q)s))")
        params["q"] = [like_pattern(w) for w in words]
    if p.genres:
        conditions.append("string_to_array(lower(genres), '|') @> %(genres)s::text[]")
        params["genres"] = sorted({g.lower() for g in p.genres})
    for name, column, value in (
        ("cast", "top_cast", p.cast),
        ("director", "directors", p.director),
    ):
        if value and value.strip():
            conditions.append(_NAME_IN_LIST.format(column=column, param=name))
            params[name] = like_pattern(value.strip())
    if p.year_from is not None:
        conditions.append("release_year >= %(year_from)s")
        params["year_from"] = p.year_from
    if p.year_to is not None:
        conditions.append("release_year <= %(year_to)s")
        params["year_to"] = p.year_to
    return conditions, params


def search_movies(p: SearchParams) -> tuple[str, dict[str, Any]]:
    """The search query: filters, the sort column (nulls last), ties by movie id."""
    conditions, params = search_filters(p)
    where = " where " + " and ".join(conditions) if conditions else ""
    sort = SEARCH_SORT_COLUMNS[p.sort]  # KeyError for anything but the five names
    direction = "asc" if p.order == "asc" else "desc"
    query = (
        f"{SEARCH_COLUMNS}{where} order by {sort} {direction} nulls last, movie_id asc"
        " limit %(limit)s offset %(offset)s"
    )
    return query, {**params, "limit": p.limit, "offset": p.offset}


def search_count(p: SearchParams) -> tuple[str, dict[str, Any]]:
    """How many movies match (for a page past the last one, which has no rows to count)."""
    conditions, params = search_filters(p)
    where = " where " + " and ".join(conditions) if conditions else ""
    return "select count(*) as total from gold.dim_movie" + where, params


def split_list(value: str | None) -> list[str]:
    """``A|B|C`` (dim_movie's lists) as a list; null or empty is ``[]``."""
    return [v for v in value.split("|") if v] if value else []


def day_range_ok(date_from: date | None, date_to: date | None) -> bool:
    return date_from is None or date_to is None or date_from <= date_to
