"""``moviepipe serve``: the read-only REST API (serving/api) under uvicorn, one worker.

Usage::

    moviepipe serve                         # http://127.0.0.1:8000/docs
    moviepipe serve --host 0.0.0.0 --port 8080 --cache-size 0
    python -m serving.cli --port 8001       # the same, without the moviepipe group
"""

from __future__ import annotations

import click

from moviepipe.config import Settings


def uvicorn_options(host: str, port: int, log_level: str) -> dict[str, object]:
    """uvicorn settings: one worker; uvloop and httptools when installed; no access log
    (at thousands of requests per second it would drown every other line)."""
    return {
        "host": host,
        "port": port,
        "workers": 1,
        "loop": "auto",
        "http": "auto",
        "log_level": log_level,
        "access_log": False,
        "lifespan": "on",
    }


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--cache-size",
    type=click.IntRange(0),
    default=None,
    help="Answers kept per gold version (default 4096; 0: every request reads PostgreSQL).",
)
@click.pass_obj
def serve(
    settings: Settings | None, host: str, port: int, log_level: str, cache_size: int | None
) -> None:
    """The REST API over gold as the reader role (Swagger UI at /docs, works offline)."""
    import uvicorn

    from moviepipe.config import load_settings
    from serving.api import create_app

    settings = settings or load_settings()  # None when run as `python -m serving.cli`

    click.echo(f"moviepipe API on http://{host}:{port} (docs: http://{host}:{port}/docs)")
    config = settings.tunables.api
    if cache_size is not None:
        config = config.model_copy(update={"response_cache_size": cache_size})
    app = create_app(settings, config)
    uvicorn.run(app, **uvicorn_options(host, port, log_level))  # type: ignore[arg-type]


if __name__ == "__main__":  # `python -m serving.cli`: the same command outside `moviepipe`
    serve()
