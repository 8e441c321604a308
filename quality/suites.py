"""The quality suites as data: one suite per table, named ``<schema>.<table>``, per layer.

Pure: no GX import. :mod:`quality.context` turns these specs into the committed GX
file context. Values from ``transform_rules.json`` are rendered into the suites when
the context is built (a test keeps the committed context current, like the rule
macros); thresholds from the tunables and every data-dependent value (counts of
silver and of the published gold) are ``$PARAMETER`` references, filled in by
:mod:`quality.gate` at run time.

Usage::

    from quality.suites import suites
    for suite in suites(load_rules()):
        print(suite.layer, suite.name, len(suite.expectations))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moviepipe.rules import Rules

LAYERS = ("raw", "silver", "gold")
BUILD_SCHEMA = "gold_build"
# The keys of a TMDB payload that staging reads (stg_movies and its children).
REQUIRED_PAYLOAD_KEYS = (
    "id",
    "title",
    "status",
    "release_date",
    "budget",
    "revenue",
    "popularity",
    "vote_average",
    "vote_count",
    "genres",
    "credits",
    "original_language",
)
KPI_TOP_N_TABLES = (
    "kpi_highest_revenue",
    "kpi_highest_budget",
    "kpi_highest_profit",
    "kpi_highest_roi",
    "kpi_lowest_roi",
    "kpi_highest_rated",
    "kpi_lowest_rated",
    "kpi_most_popular",
    "kpi_top_directors",
    "kpi_top_franchises",
)
# Key columns of the gold tables the gate checks beyond the KPI marts.
GOLD_KEYS: dict[str, tuple[str, ...]] = {
    "fact_user_event": ("event_id", "event_type", "user_id", "session_key", "date_key"),
    "fact_user_event_fallback": ("event_id", "event_type", "user_id"),
    "dim_movie": ("movie_id", "title"),
    "dim_session": ("session_key", "user_id"),
    "dim_user": ("user_id",),
    "dim_date": ("date_key",),
    "dim_genre": ("genre_id",),
    "dim_person": ("person_id",),
    "kpi_franchise_vs_standalone": ("is_franchise",),
    "top_movies": ("period", "genre", "metric", "rank", "movie_id"),
    "user_stats": ("user_id",),
    "user_stats_overall": (),
    "emotion_trends": ("trend_key",),
}
GOLD_TABLES = (*GOLD_KEYS, *KPI_TOP_N_TABLES)
# Top-N marts whose candidates the data may not have N of (TMDB 5000 has no collections):
# their row count must be min(N, candidates in silver), a $PARAMETER ``<table>_rows``.
SHORT_KPI_TABLES = ("kpi_top_franchises",)


@dataclass(frozen=True)
class Expectation:
    """One GX expectation: its class name in ``great_expectations.expectations`` and kwargs."""

    kind: str
    kwargs: dict[str, Any]
    description: str | None = None


@dataclass(frozen=True)
class Suite:
    layer: str
    schema: str
    table: str
    expectations: tuple[Expectation, ...] = field(default_factory=tuple)
    # A SQL query instead of the table (a query asset), for derived measures.
    query: str | None = None

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


def param(name: str) -> dict[str, str]:
    return {"$PARAMETER": name}


def rows_query(description: str, query: str) -> Expectation:
    """Rows the query returns are failures (``{batch}`` is the table under test)."""
    return Expectation("UnexpectedRowsExpectation", {"unexpected_rows_query": query}, description)


def not_null(*columns: str) -> tuple[Expectation, ...]:
    return tuple(Expectation("ExpectColumnValuesToNotBeNull", {"column": c}) for c in columns)


def volume(table: str) -> Expectation:
    """The candidate keeps at least ``min_rows.<table>`` rows (from the published gold)."""
    return Expectation(
        "ExpectTableRowCountToBeBetween",
        {"min_value": param(f"min_rows_{table}")},
        f"loses at most quality.max_row_loss_share of the published gold.{table}'s rows",
    )


def raw_suites(rules: Rules) -> list[Suite]:
    keys = ", ".join(f"'{k}'" for k in REQUIRED_PAYLOAD_KEYS)
    skew = int(rules.events.max_future_skew_seconds)
    landings = (
        "select run_id, ingested_at as at from raw.user_events"
        " union all select run_id, ingested_at from raw.user_events_fallback"
        # the collector's dead letters are HTTP requests, not a landing of Kafka messages
        " union all select run_id, rejected_at from raw.user_events_rejected"
        " where source_flag <> 'collector'"
    )
    last = "(select run_id from landing order by at desc limit 1)"
    share = (
        f"select dead_letter_share from (with landing as ({landings}) select coalesce("
        f"(select count(*) from raw.user_events_rejected where run_id = {last})::float8"
        f" / nullif((select count(*) from landing where run_id = {last}), 0), 0)"
        " as dead_letter_share) share"
    )
    times = (
        "select event_id, extract(epoch from event_ts)::float8 as event_epoch,"
        " extract(epoch from event_ts - ingested_at)::float8 as skew_s from raw.user_events"
    )
    return [
        Suite(
            "raw",
            "raw",
            "tmdb_movies",
            (
                rows_query(
                    "every payload has the keys staging reads",
                    "select movie_id, payload_hash from {batch}"
                    f" where not (payload ?& array[{keys}])",
                ),
                Expectation(
                    "ExpectCompoundColumnsToBeUnique",
                    {"column_list": ["movie_id", "payload_hash"]},
                    "one row per movie and payload hash",
                ),
                rows_query(
                    "the payload's id is the row's movie_id",
                    "select movie_id from {batch} where (payload->>'id')::bigint <> movie_id",
                ),
            ),
        ),
        Suite("raw", "raw", "user_events", (*not_null("event_id", "event_ts", "user_id"),)),
        Suite(
            "raw",
            "raw",
            "event_times",
            (
                Expectation(
                    "ExpectColumnValuesToBeBetween",
                    {"column": "event_epoch", "min_value": param("min_event_epoch")},
                    "no event before quality.min_event_date",
                ),
                Expectation(
                    "ExpectColumnValuesToBeBetween",
                    {"column": "skew_s", "max_value": skew},
                    f"no event more than {skew} s after it landed",
                ),
            ),
            query=times,
        ),
        Suite(
            "raw",
            "raw",
            "dead_letter_share",
            (
                Expectation(
                    "ExpectColumnMaxToBeBetween",
                    {"column": "dead_letter_share", "max_value": param("max_dead_letter_share")},
                    "dead letters of the last landing at most quality.max_dead_letter_share",
                ),
            ),
            query=share,
        ),
    ]


def silver_suites(rules: Rules) -> list[Suite]:
    return [
        Suite(
            "silver",
            "silver",
            "movies_curated",
            (
                Expectation(
                    "ExpectColumnValuesToBeBetween",
                    {"column": "vote_average", "min_value": 0, "max_value": 10},
                ),
                Expectation(
                    "ExpectColumnValuesToBeBetween", {"column": "budget_musd", "min_value": 0}
                ),
                Expectation(
                    "ExpectColumnValuesToBeBetween", {"column": "revenue_musd", "min_value": 0}
                ),
                Expectation(
                    "ExpectColumnValuesToBeBetween", {"column": "vote_count", "min_value": 0}
                ),
                rows_query(
                    "ROI only where budget and revenue are known",
                    "select movie_id, budget_musd, revenue_musd, roi from {batch}"
                    " where roi is not null and (budget_musd is null or revenue_musd is null)",
                ),
                rows_query(
                    "no more movies than raw has",
                    "select n from (select count(*) as n from {batch}) c"
                    " where n > (select count(distinct movie_id) from raw.tmdb_movies)",
                ),
                rows_query(
                    "every original language is a known ISO 639-1 code (seeds.iso_languages)",
                    "select movie_id, original_language from {batch}"
                    " where original_language is not null and original_language not in"
                    " (select language_code from seeds.iso_languages)",
                ),
            ),
        ),
        Suite(
            "silver",
            "silver",
            "user_events",
            (
                *not_null("event_id", "session_key", "event_ts"),
                Expectation(
                    "ExpectColumnValuesToBeInSet",
                    {"column": "event_type", "value_set": list(rules.events.valid_event_types)},
                ),
                rows_query(
                    "no orphan events: every event is in a session",
                    "select event_id, session_key from {batch} where session_key not in"
                    " (select session_key from silver.sessions where session_key is not null)",
                ),
                rows_query(
                    "no more events than raw landed",
                    "select n from (select count(*) as n from {batch}) c where n >"
                    " (select count(*) from raw.user_events) + (select count(*) from"
                    " raw.user_events_fallback) + (select count(*) from raw.mongo_user_logs)",
                ),
            ),
        ),
    ]


def kpi_checks(table: str, top_n: int, roi_min: float) -> tuple[Expectation, ...]:
    """A top-N mart: exactly N rows ranked 1..N (ROI marts: only budgets past the rule)."""
    short = table in SHORT_KPI_TABLES
    checks = [
        Expectation(
            "ExpectTableRowCountToEqual",
            {"value": param(f"{table}_rows") if short else top_n},
            f"exactly {top_n} rows" + (" (fewer only when fewer exist in silver)" if short else ""),
        ),
        Expectation(
            "ExpectColumnValuesToBeBetween", {"column": "rank", "min_value": 1, "max_value": top_n}
        ),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "rank"}, f"ranks 1..{top_n}"),
        *not_null("rank"),
        volume(table),
    ]
    if table in ("kpi_highest_roi", "kpi_lowest_roi"):
        checks.append(
            rows_query(
                f"ROI ranked only where the budget is at least {roi_min} M USD",
                "select movie_id, roi from {batch} where movie_id not in (select movie_id"
                f" from silver.movies_curated where budget_musd >= {roi_min})",
            )
        )
    return tuple(checks)


def gold_suites(rules: Rules) -> list[Suite]:
    top_n, roi_min = rules.movies.kpi_top_n, rules.movies.roi_min_budget_musd
    out = [
        Suite("gold", BUILD_SCHEMA, table, kpi_checks(table, top_n, roi_min))
        for table in KPI_TOP_N_TABLES
    ]
    for table, keys in GOLD_KEYS.items():
        checks = [*not_null(*keys), volume(table)]
        if table == "fact_user_event":
            checks.append(
                Expectation(
                    "ExpectTableRowCountToEqual",
                    {"value": param("silver_user_events_rows")},
                    "as many facts as silver.user_events has events",
                )
            )
        if table == "dim_movie":
            checks.append(
                Expectation(
                    "ExpectTableRowCountToEqual",
                    {"value": param("silver_movies_curated_rows")},
                    "one row per silver.movies_curated movie",
                )
            )
        out.append(Suite("gold", BUILD_SCHEMA, table, tuple(checks)))
    return out


def suites(rules: Rules) -> list[Suite]:
    return [*raw_suites(rules), *silver_suites(rules), *gold_suites(rules)]
