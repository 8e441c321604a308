"""The API's connection pool: reader role, read-only sessions, no prepared statements.

``open_pool(settings, config)`` is awaited in the app's lifespan (never at import).
Each connection:

* logs in as the **reader** role (it may only select from ``gold``);
* starts with ``default_transaction_read_only``, ``statement_timeout`` and
  ``idle_in_transaction_session_timeout`` set by the libpq ``options`` startup
  parameter (no extra round trip);
* runs in autocommit, so a request never holds a transaction (and its locks)
  longer than its one statement: the publish's 50 ms ``lock_timeout`` rarely waits;
* never prepares statements (``prepare_threshold=None``): a prepared statement is
  bound to the OIDs of the gold tables it was planned on, and the blue/green
  publish renames schemas under it (``cached plan must not change result type``);
  every query is parsed afresh and resolves ``gold.x`` to the published table;
* loads ``numeric`` as ``float`` (JSON has no decimals).

Usage::

    pool = await open_pool(settings, settings.tunables.api)
    rows = await fetch_all(pool, "select * from gold.dim_genre where genre_name = %s", ("Drama",))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.numeric import FloatLoader
from psycopg_pool import AsyncConnectionPool

from moviepipe.config import Settings
from moviepipe.tunables import ApiTunables

Query = str | sql.Composable


def session_options(config: ApiTunables) -> str:
    """The libpq ``options`` that make every session read-only and bounded in time."""
    return " ".join(
        (
            "-c default_transaction_read_only=on",
            f"-c statement_timeout={int(config.statement_timeout_ms)}",
            f"-c idle_in_transaction_session_timeout={int(config.idle_in_transaction_timeout_ms)}",
        )
    )


def connection_kwargs(settings: Settings, config: ApiTunables) -> dict[str, Any]:
    """``psycopg.connect`` keyword arguments of a pooled connection (reader role only)."""
    info = settings.pg_conninfo("reader")
    info["application_name"] = "moviepipe-api"
    return {
        **info,
        "options": session_options(config),
        "autocommit": True,
        "prepare_threshold": None,
        "row_factory": dict_row,
    }


async def _configure(conn: psycopg.AsyncConnection) -> None:
    conn.adapters.register_loader("numeric", FloatLoader)


def make_pool(settings: Settings, config: ApiTunables) -> AsyncConnectionPool:
    """An unopened pool; ``await pool.open()`` connects."""
    return AsyncConnectionPool(
        conninfo="",
        kwargs=connection_kwargs(settings, config),
        min_size=config.pool_min_size,
        max_size=max(config.pool_max_size, config.pool_min_size),
        timeout=config.pool_timeout_s,
        configure=_configure,
        open=False,
        name="moviepipe-api",
    )


async def open_pool(settings: Settings, config: ApiTunables) -> AsyncConnectionPool:
    """Open the pool without waiting for the database: the API starts (and /health says
    so) while PostgreSQL is down, and connects once it is up."""
    pool = make_pool(settings, config)
    await pool.open(wait=False)
    return pool


async def fetch_all(
    pool: AsyncConnectionPool, query: Query, params: Sequence[Any] | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    """Rows of one bound query as dicts; parameters never reach the SQL text."""
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute(query, params)  # type: ignore[arg-type]
        return await cur.fetchall()  # type: ignore[return-value]


async def fetch_one(
    pool: AsyncConnectionPool, query: Query, params: Sequence[Any] | dict[str, Any] = ()
) -> dict[str, Any] | None:
    rows = await fetch_all(pool, query, params)
    return rows[0] if rows else None
