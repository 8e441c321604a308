"""Tunables of the REST API (pool, timeouts, response cache), with their defaults.

``create_app(settings, ApiConfig(pool_max_size=4))`` overrides any of them; the
defaults are what ``moviepipe serve`` uses.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ApiConfig(BaseModel):
    """How the API talks to PostgreSQL (page sizes are part of the API: see ``params``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # One uvicorn worker, 10 concurrent clients in the benchmark: 4 connections keep
    # PostgreSQL busy without queueing in the pool (2 cores).
    pool_min_size: int = Field(default=4, ge=1)
    pool_max_size: int = Field(default=8, ge=1)
    # Waiting longer than this for a pooled connection answers 503, not a hung request.
    pool_timeout_s: float = Field(default=5.0, gt=0)
    # Every session is read-only and no statement runs longer than this.
    statement_timeout_ms: int = Field(default=3000, ge=1)
    # The publish's lock_timeout is 50 ms: a reader must never hold a transaction open.
    idle_in_transaction_timeout_ms: int = Field(default=5000, ge=1)
    # GET /api/... answers kept per published gold version (serving/api/cache.py); 0: off.
    response_cache_size: int = Field(default=4096, ge=0)
    # How often the published gold's version is read: the most a cached answer lags a publish.
    gold_check_interval_s: float = Field(default=0.5, gt=0)
