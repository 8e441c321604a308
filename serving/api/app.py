"""The FastAPI application: ``create_app(settings)`` builds it, the lifespan connects.

Nothing happens at import time and nothing connects in ``create_app``: the pool
(:mod:`serving.api.db`) opens when the server starts the app and closes when it
stops, with the task that keeps the response cache on the published gold
(:mod:`serving.api.cache`). Swagger UI (``/docs``) and ReDoc (``/redoc``) are served from the assets
packaged in ``fastapi-offline``, so they work without network access.

Errors: 404 (unknown name) and 422 (bad parameter) are declared on every route;
503 means the database is unreachable, too slow (``statement_timeout``) or gold
is not built. A bug is a 500, which the tests look for.

Usage::

    import uvicorn
    from serving.api import create_app
    uvicorn.run(create_app(load_settings()), host="127.0.0.1", port=8000)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from psycopg_pool import PoolTimeout

from moviepipe.config import Settings
from moviepipe.tunables import ApiTunables
from serving.api import health, routes
from serving.api.cache import ResponseCache, ResponseCacheMiddleware, gold_watcher
from serving.api.db import open_pool
from serving.api.models import Problem

DESCRIPTION = """Read-only API over the published gold layer of the movie warehouse.

Every response comes from `gold` through the reader role; lists are paginated
(`limit`, `offset`, at most 100 per page). Contract of the marts: docs/enrich.md;
usage: docs/api.md."""
UNAVAILABLE = {503: {"model": Problem, "description": "Database unavailable or too slow"}}


def query_params_without_null(spec: dict[str, Any]) -> dict[str, Any]:
    """Drop ``{"type": "null"}`` from optional query parameters' schemas.

    FastAPI writes ``int | None = None`` as ``anyOf: [integer, null]``; a query string
    cannot carry a JSON null (an absent parameter is the None), and clients reading the
    schema (schemathesis among them) would send the text ``null``, a 422.
    """
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            for param in operation.get("parameters", []):
                schema = param.get("schema", {})
                options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
                if param.get("in") == "query" and len(options) == 1 and "anyOf" in schema:
                    del schema["anyOf"]
                    schema.update(options[0])
    return spec


def _openapi_for_query_strings(app: FastAPI) -> Callable[[], dict[str, Any]]:
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = query_params_without_null(plain())
        return app.openapi_schema

    return openapi


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(routes.NotFound)
    async def not_found(_request: Request, exc: routes.NotFound) -> JSONResponse:
        return _problem(404, str(exc))

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def timed_out(_request: Request, _exc: Exception) -> JSONResponse:
        return _problem(503, "the query ran past statement_timeout; retry later")

    @app.exception_handler(psycopg.errors.UndefinedTable)
    async def not_built(_request: Request, _exc: Exception) -> JSONResponse:
        return _problem(503, "gold is not built yet: run `moviepipe run`")

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def unavailable(_request: Request, exc: Exception) -> JSONResponse:
        return _problem(503, f"database unavailable ({type(exc).__name__}); retry later")


def site_dir(settings: Settings) -> Path:
    """Where `moviepipe docs` writes the site that `/site` serves."""
    return settings.home / "docs"


def create_app(settings: Settings | None, config: ApiTunables | None = None) -> FastAPI:
    """The API over ``settings``' database; connects only when the app starts.

    ``settings=None`` gives an app for its OpenAPI schema only (the docs site): it
    refuses to start.
    """
    config = config or (settings.tunables.api if settings else ApiTunables())
    cache = ResponseCache(config.response_cache_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings is None:
            raise RuntimeError("create_app(None) serves no requests: pass Settings")
        site_dir(settings).mkdir(parents=True, exist_ok=True)
        app.state.pool = await open_pool(settings, config)
        try:
            async with gold_watcher(app.state.pool, cache, config.gold_check_interval_s):
                yield
        finally:
            await app.state.pool.close()

    app = FastAPIOffline(
        title="moviepipe API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=UNAVAILABLE,
    )
    app.state.settings = settings
    app.state.config = config
    app.state.cache = cache
    app.add_middleware(ResponseCacheMiddleware, cache=cache)
    app.include_router(routes.router)
    app.include_router(health.router)
    if settings is not None:
        # The docs site (`moviepipe docs`) under /site: one address for the API and the pages.
        site = StaticFiles(directory=site_dir(settings), html=True, check_dir=False)
        app.mount("/site", site, name="site")
    _install_error_handlers(app)
    app.openapi = _openapi_for_query_strings(app)  # type: ignore[method-assign]
    return app
