"""The API's sessions: reader role only, read-only, bounded by statement_timeout, gold only."""

from __future__ import annotations

import psycopg
import pytest

from moviepipe.config import Settings
from moviepipe.tunables import ApiTunables
from serving.api.db import connection_kwargs, session_options

OUTSIDE_GOLD = (
    "raw.user_events",
    "raw.tmdb_movies",
    "raw.comment_sentiment",
    "staging.stg_comment_sentiment",
    "silver.user_events",
    "ops.run_log",
    "ops.quality_results",
    "ops.publish_log",
    "gold_previous.top_movies",
)


def api_connection(settings: Settings, config: ApiTunables | None = None) -> psycopg.Connection:
    """A connection exactly as the API's pool opens one."""
    return psycopg.connect(**connection_kwargs(settings, config or ApiTunables()))


def test_sessions_are_the_reader_read_only_and_unprepared(api_gold: Settings) -> None:
    with api_connection(api_gold) as conn:
        row = conn.execute(
            "select current_user as who, current_setting('default_transaction_read_only') as ro,"
            " current_setting('statement_timeout') as st"
        ).fetchone()
        assert row == {"who": api_gold.role_user("reader"), "ro": "on", "st": "3s"}
        assert conn.prepare_threshold is None and conn.autocommit
        assert conn.execute("select count(*) as n from gold.top_movies").fetchone()["n"] > 0


@pytest.mark.parametrize(
    "statement",
    [
        "insert into gold.dim_genre (genre_id, genre_name) values (-1, 'x')",
        "update gold.top_movies set title = 'x'",
        "delete from gold.user_stats",
        "create table gold.api_probe (x int)",
        "drop table gold.top_movies",
    ],
)
def test_reader_cannot_write_even_in_a_read_write_transaction(
    api_gold: Settings, statement: str
) -> None:
    with api_connection(api_gold) as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(statement)  # type: ignore[arg-type]
        conn.autocommit = False
        conn.execute("set transaction read write")  # the role's own rights, not the session's
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)  # type: ignore[arg-type]
        conn.rollback()


@pytest.mark.parametrize("relation", OUTSIDE_GOLD)
def test_reader_cannot_read_outside_gold(api_gold: Settings, relation: str) -> None:
    with api_connection(api_gold) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f"select * from {relation} limit 1")  # type: ignore[arg-type]


def test_statement_timeout_cancels_a_long_query(api_gold: Settings) -> None:
    config = ApiTunables(statement_timeout_ms=100)
    assert "statement_timeout=100" in session_options(config)
    with api_connection(api_gold, config) as conn, pytest.raises(psycopg.errors.QueryCanceled):
        conn.execute("select pg_sleep(5)")
