"""``GET /health``: database reachable, gold's freshness, the last gate and publish.

200 while PostgreSQL answers (``status`` is ``degraded`` when gold is missing or
empty), 503 when it does not. The gate and publish come from
``ops.quality_results`` and ``ops.publish_log`` through the functions
``health.last_gate()`` and ``health.last_publish()``, the reader's only way outside gold;
null when nothing has run (or the database predates them, which ``detail`` says).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout

from serving.api import models as m
from serving.api.routes import reject_unknown_query

GOLD_OID = "select to_regnamespace('gold')::oid as oid"
GOLD_AS_OF = "select max(as_of_date) as as_of_date from gold.top_movies where period = 'all'"
# Security-definer functions (moviepipe/sql/006_health.sql): the reader reads no ops table.
LAST_GATE = "select * from health.last_gate()"
LAST_PUBLISH = "select * from health.last_publish()"

router = APIRouter(dependencies=[Depends(reject_unknown_query)])


async def _optional(conn: psycopg.AsyncConnection, query: str) -> tuple[dict | None, str | None]:
    """One row of ``query``, or ``(None, why)`` when the relation is missing or not granted."""
    try:
        cur = await conn.execute(query)  # type: ignore[arg-type]
        return await cur.fetchone(), None  # type: ignore[return-value]
    except (
        psycopg.errors.InsufficientPrivilege,
        psycopg.errors.UndefinedTable,
        psycopg.errors.UndefinedFunction,
        psycopg.errors.InvalidSchemaName,
    ) as exc:
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def lag_days(as_of: Any, today: datetime | None = None) -> int | None:
    if as_of is None:
        return None
    return ((today or datetime.now(UTC)).date() - as_of).days


@router.get(
    "/health",
    response_model=m.Health,
    responses={503: {"model": m.Health, "description": "The database is unreachable"}},
    summary="Database reachable, gold freshness, last gate result and publish",
)
async def health(request: Request) -> m.Health | JSONResponse:
    try:
        async with request.app.state.pool.connection() as conn:
            oid = (await (await conn.execute(GOLD_OID)).fetchone())["oid"]
            as_of, gold_why = await _optional(conn, GOLD_AS_OF)
            gate, gate_why = await _optional(conn, LAST_GATE)
            published, _ = await _optional(conn, LAST_PUBLISH)
    except (psycopg.OperationalError, PoolTimeout) as exc:
        body = m.Health(
            status="degraded",
            database=False,
            gold_schema_oid=None,
            gold_as_of_date=None,
            gold_lag_days=None,
            gate=None,
            last_publish=None,
            detail=f"database unreachable: {type(exc).__name__}",
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=503)
    as_of_date = as_of["as_of_date"] if as_of else None
    notes = [why for why in (gold_why, gate_why) if why]
    return m.Health(
        status="ok" if as_of_date is not None else "degraded",
        database=True,
        gold_schema_oid=oid,
        gold_as_of_date=as_of_date,
        gold_lag_days=lag_days(as_of_date),
        gate=m.GateStatus.model_validate(gate) if gate else None,
        last_publish=m.PublishStatus.model_validate(published) if published else None,
        detail="; ".join(notes) or None,
    )
