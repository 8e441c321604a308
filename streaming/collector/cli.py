"""``moviepipe collect``: the event collector (streaming/collector) under uvicorn, one worker.

Usage::

    moviepipe collect                           # POST http://127.0.0.1:8001/events (tunables)
    moviepipe collect --host 0.0.0.0 --port 8080
    python -m streaming.collector.cli --port 8002   # the same, without the moviepipe group
"""

from __future__ import annotations

import click

from moviepipe.config import Settings


@click.command("collect")
@click.option("--host", help="Address to listen on  [default: streaming.collector.host]")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="Port to listen on  [default: streaming.collector.port]",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.pass_obj
def collect(settings: Settings | None, host: str | None, port: int | None, log_level: str) -> None:
    """Collect front-end events: POST /events, validated by the contract, into Kafka."""
    import uvicorn

    from moviepipe.config import load_settings
    from streaming.collector import create_app

    settings = settings or load_settings()  # None when run as `python -m streaming.collector.cli`
    config = settings.tunables.streaming.collector
    host = host or config.host
    port = config.port if port is None else port
    click.echo(f"moviepipe collector on http://{host}:{port}/events")
    # One worker; no access log (at thousands of events a second it drowns every other line).
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        workers=1,
        log_level=log_level,
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":  # `python -m streaming.collector.cli`
    collect()
