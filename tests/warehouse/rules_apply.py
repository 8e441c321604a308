"""The warehouse's business rules re-done in pandas and in Spark: the parity test's witnesses.

dbt applies the rules in SQL (macros generated from ``transform_rules.json``);
no engine computes them outside dbt. These functions apply the same rules from
the same file (through :func:`moviepipe.rules.load_rules`) to pandas and Spark
frames, written apart from the SQL, so that ``tests/warehouse/test_parity.py``
can feed one input through all three and require identical results.

Events frames have the columns of raw.user_events (``payload`` as a JSON
string, as the contract's engines return it); movie frames have ``movie_id,
status, budget, revenue, popularity, vote_average, vote_count`` (TMDB's units:
whole dollars).

Usage::

    from tests.warehouse.rules_apply import pandas_events, pandas_movies, pandas_top_movies
    events = pandas_events(valid_df, rules)          # + watch_completion, is_completed, session_key
    movies = pandas_movies(movies_df, rules)         # released only, money in millions, profit, roi
    pandas_top_movies(movies, rules, "roi")          # movie ids of kpi_highest_roi, in rank order
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import pandas as pd

from moviepipe.rules import Rules

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# KPI name -> (metric column, descending?, threshold column, rules attribute of the threshold)
RANKINGS: dict[str, tuple[str, bool, str | None, str | None]] = {
    "kpi_highest_revenue": ("revenue_musd", True, None, None),
    "kpi_highest_budget": ("budget_musd", True, None, None),
    "kpi_highest_profit": ("profit_musd", True, None, None),
    "kpi_highest_roi": ("roi", True, "budget_musd", "roi_min_budget_musd"),
    "kpi_lowest_roi": ("roi", False, "budget_musd", "roi_min_budget_musd"),
    "kpi_highest_rated": ("vote_average", True, "vote_count", "rating_min_votes"),
    "kpi_lowest_rated": ("vote_average", False, "vote_count", "rating_min_votes"),
    "kpi_most_popular": ("popularity", True, None, None),
}
SESSION_TS_FORMAT_PY = "%Y-%m-%dT%H:%M:%S.%f"
SESSION_TS_FORMAT_SPARK = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS"


# ---- pandas -----------------------------------------------------------------


def _payload_number(payload: str | None, key: str) -> float | None:
    if payload is None or pd.isna(payload):
        return None
    value = json.loads(payload).get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def session_key(user_id: str, start: pd.Timestamp) -> str:
    """md5 of the user and the session's first event time (UTC, microseconds): dbt's key."""
    text = f"{user_id}|{start.tz_convert('UTC').strftime(SESSION_TS_FORMAT_PY)}"
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def pandas_events(events: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Watch completion (position / duration, capped at 1) against the threshold, and
    inactivity sessions, per event."""
    out = events.copy()
    out["event_ts"] = pd.to_datetime(out["event_ts"], utc=True)
    is_watch = out["event_type"] == "watch"
    position = out["payload"].map(lambda p: _payload_number(p, "position_s")).astype("Float64")
    duration = out["payload"].map(lambda p: _payload_number(p, "duration_s")).astype("Float64")
    duration = duration.where(duration > 0)
    completion = (position / duration).clip(upper=1.0).where(is_watch)
    out["watch_completion"] = completion
    out["is_completed"] = (
        (completion >= rules.watch.completion_threshold).where(completion.notna()).astype("boolean")
    )

    out = out.sort_values(["user_id", "event_ts", "event_id"], kind="stable")
    gap = pd.Timedelta(minutes=rules.sessions.inactivity_gap_minutes)
    previous = out.groupby("user_id", sort=False)["event_ts"].shift()
    starts = previous.isna() | ((out["event_ts"] - previous) > gap)
    number = starts.astype(int).groupby(out["user_id"], sort=False).cumsum()
    start_ts = out.groupby([out["user_id"], number], sort=False)["event_ts"].transform("min")
    out["session_key"] = [session_key(u, s) for u, s in zip(out["user_id"], start_ts, strict=True)]
    return out.sort_index()


def pandas_movies(movies: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Released movies with money in the rules' unit (0 = unknown), profit and ROI."""
    out = movies[movies["status"].isin(rules.movies.released_statuses)].copy()
    for src, dst in (("budget", "budget_musd"), ("revenue", "revenue_musd")):
        money = out[src].astype("Float64")
        if rules.money.zero_means_unknown:
            money = money.where(money != 0)
        out[dst] = money / rules.money.divisor
    out["profit_musd"] = out["revenue_musd"] - out["budget_musd"]
    out["roi"] = out["revenue_musd"] / out["budget_musd"]
    return out


def pandas_top_movies(movies: pd.DataFrame, rules: Rules, kpi: str) -> list[int]:
    """Movie ids of a KPI mart in rank order: threshold, metric, ties by movie_id ascending."""
    metric, descending, threshold_col, threshold_rule = RANKINGS[kpi]
    frame = movies[movies[metric].notna()]
    if threshold_col:
        frame = frame[frame[threshold_col] >= getattr(rules.movies, threshold_rule)]
    frame = frame.sort_values([metric, "movie_id"], ascending=[not descending, True])
    return [int(m) for m in frame["movie_id"].head(rules.movies.kpi_top_n)]


# ---- Spark ------------------------------------------------------------------


def spark_events(events: DataFrame, rules: Rules) -> DataFrame:
    """:func:`pandas_events` for a Spark DataFrame (session time zone must be UTC)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    position = F.get_json_object("payload", "$.position_s").cast("double")
    duration = F.get_json_object("payload", "$.duration_s").cast("double")
    completion = F.when(
        (F.col("event_type") == "watch") & (duration > 0), F.least(position / duration, F.lit(1.0))
    )
    by_user = Window.partitionBy("user_id").orderBy("event_ts", "event_id")
    gap_us = rules.sessions.inactivity_gap_minutes * 60 * 1_000_000
    previous = F.lag("event_ts").over(by_user)
    starts = F.when(
        previous.isNull() | ((F.unix_micros("event_ts") - F.unix_micros(previous)) > gap_us), 1
    ).otherwise(0)
    running = by_user.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    return (
        events.withColumn("watch_completion", completion)
        .withColumn("is_completed", F.col("watch_completion") >= rules.watch.completion_threshold)
        .withColumn("_starts", starts)
        .withColumn("_session", F.sum("_starts").over(running))
        .withColumn("_start_ts", F.min("event_ts").over(Window.partitionBy("user_id", "_session")))
        .withColumn(
            "session_key",
            F.md5(F.concat_ws("|", "user_id", F.date_format("_start_ts", SESSION_TS_FORMAT_SPARK))),
        )
        .drop("_starts", "_session", "_start_ts")
    )


def spark_movies(movies: DataFrame, rules: Rules) -> DataFrame:
    """:func:`pandas_movies` for a Spark DataFrame."""
    from pyspark.sql import functions as F

    def musd(col: str):
        money = F.col(col).cast("double")
        if rules.money.zero_means_unknown:
            money = F.when(money != 0, money)
        return money / F.lit(float(rules.money.divisor))

    return (
        movies.where(F.col("status").isin(list(rules.movies.released_statuses)))
        .withColumn("budget_musd", musd("budget"))
        .withColumn("revenue_musd", musd("revenue"))
        .withColumn("profit_musd", F.col("revenue_musd") - F.col("budget_musd"))
        .withColumn("roi", F.col("revenue_musd") / F.col("budget_musd"))
    )


def spark_top_movies(movies: DataFrame, rules: Rules, kpi: str) -> list[int]:
    """:func:`pandas_top_movies` for a Spark DataFrame."""
    from pyspark.sql import functions as F

    metric, descending, threshold_col, threshold_rule = RANKINGS[kpi]
    frame = movies.where(F.col(metric).isNotNull())
    if threshold_col:
        frame = frame.where(F.col(threshold_col) >= getattr(rules.movies, threshold_rule))
    order = F.col(metric).desc() if descending else F.col(metric).asc()
    rows = frame.orderBy(order, F.col("movie_id").asc()).limit(rules.movies.kpi_top_n).collect()
    return [int(r["movie_id"]) for r in rows]
