"""A response cache for ``GET /api/...``, keyed by the published gold version.

Gold changes only when the quality gate publishes (a schema swap); the published
schema's OID names the version. A background task in the app's lifespan reads it
every ``ApiTunables.gold_check_interval_s`` (:func:`watch_gold_version`) and the cache
empties when it changes, so a response is at most that old after a publish, and
always whole from one version. Without a known version (database unreachable at the
last check) nothing is cached. Only 200 answers are kept; the exact path and query
string are the key, so a hit is the answer the same request got from the database.

Measured (server CPU per request around a ``wrk`` run, sample gold): a hit ~0.04 ms,
a miss 0.76 ms on top_movies and 0.93 ms on a search (routing, validation, one round
trip to PostgreSQL, serialization); docs/api.md has the load figures.

Usage::

    app.add_middleware(ResponseCacheMiddleware, cache=ResponseCache(4096))
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

GOLD_VERSION = "select to_regnamespace('gold')::oid as oid"
CACHED_PREFIX = "/api/"


class ResponseCache:
    """JSON bodies by request key, for one gold version; least recently used leave first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.version: int | None = None
        self._bodies: OrderedDict[str, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._bodies)

    def set_version(self, version: int | None) -> None:
        if version != self.version:
            self._bodies.clear()
            self.version = version

    def get(self, key: str) -> bytes | None:
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
        return body

    def put(self, version: int | None, key: str, body: bytes) -> None:
        """Keep ``body`` if it was read under the current, known version."""
        if self.size <= 0 or version is None or version != self.version:
            return
        self._bodies[key] = body
        self._bodies.move_to_end(key)
        while len(self._bodies) > self.size:
            self._bodies.popitem(last=False)


async def read_gold_version(pool: AsyncConnectionPool) -> int | None:
    try:
        async with pool.connection() as conn:
            row = await (await conn.execute(GOLD_VERSION)).fetchone()
            return row["oid"] if row else None
    except (psycopg.Error, PoolTimeout):
        return None


async def watch_gold_version(
    pool: AsyncConnectionPool, cache: ResponseCache, interval_s: float
) -> None:
    """Forever: the cache follows the published gold (cancelled at shutdown)."""
    while True:
        cache.set_version(await read_gold_version(pool))
        await asyncio.sleep(interval_s)


Send = Callable[[dict[str, Any]], Awaitable[None]]


class ResponseCacheMiddleware:
    """Pure ASGI (no per-request task or body copy when it misses the cache path)."""

    def __init__(self, app: Any, cache: ResponseCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(CACHED_PREFIX)
            or self.cache.size <= 0
        ):
            await self.app(scope, receive, send)
            return
        key = f"{scope['path']}?{scope['query_string'].decode('latin-1')}"
        body = self.cache.get(key)
        if body is not None:
            await _send_json(send, body)
            return
        version = self.cache.version
        status: list[int] = []
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and status == [200]:
                    self.cache.put(version, key, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, capture)


async def _send_json(send: Send, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextlib.asynccontextmanager
async def gold_watcher(pool: AsyncConnectionPool, cache: ResponseCache, interval_s: float):
    """Run :func:`watch_gold_version` for the life of the app."""
    task = asyncio.create_task(watch_gold_version(pool, cache, interval_s))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
