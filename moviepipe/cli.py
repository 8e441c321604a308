"""``moviepipe``: the root command group and the core commands of the warehouse.

Make targets and Airflow tasks call it, so each step runs the same way everywhere::

    moviepipe services up|down|status
    moviepipe run
    moviepipe config

The layers' groups (extract, stream, transform, ...) are added to :func:`main` in
:mod:`commands.app`, above every layer: this package never imports them.
"""

from __future__ import annotations

import sys
import time

import click

from moviepipe import logs
from moviepipe.cli_support import (
    EXIT_INPUT,
    Group,
    echo_json,
    exits_on,
    fail,
    flatten,
    human,
    json_option,
)
from moviepipe.config import Settings, load_settings


def _print_status(settings: Settings) -> bool:
    from moviepipe import services

    all_ok = True
    for st in services.status(settings):
        click.echo(st.line())
        all_ok &= st.healthy
    return all_ok


@click.group(
    cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120}
)
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.version_option(package_name="moviepipe")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """The movie warehouse pipeline."""
    logs.configure(verbose)
    ctx.obj = load_settings()


@main.group()
def services() -> None:
    """Local PostgreSQL, Kafka and MongoDB-wire servers, and an opt-in Spark cluster (.local/)."""


SERVICE_NAMES = click.Choice(["postgres", "kafka", "mongo", "spark"])


@services.command("up")
@click.argument("names", nargs=-1, type=SERVICE_NAMES)
@click.option("--only", multiple=True, type=SERVICE_NAMES)
@click.pass_obj
def services_up(settings: Settings, names: tuple[str, ...], only: tuple[str, ...]) -> None:
    """Start the services (or NAMES; `spark` only when named) until healthy; safe to repeat."""
    from moviepipe import services as svc

    start = time.monotonic()
    with exits_on(svc.ServiceError):
        svc.up(settings, [*names, *only] or None, on_ready=lambda st: click.echo(st.line()))
    click.echo(f"services up in {time.monotonic() - start:.1f}s")


@services.command("down")
@click.argument("names", nargs=-1, type=SERVICE_NAMES)
@click.option("--only", multiple=True, type=SERVICE_NAMES)
@click.pass_obj
def services_down(settings: Settings, names: tuple[str, ...], only: tuple[str, ...]) -> None:
    """Stop the services (or NAMES) that `up` started (never one it found already running)."""
    from moviepipe import services as svc

    for name, stopped in svc.down(settings, [*names, *only] or None).items():
        click.echo(f"{name:<10} {'stopped' if stopped else 'was not started by moviepipe'}")


@services.command("status")
@click.pass_obj
def services_status(settings: Settings) -> None:
    """Print each service with its address and health; exit 1 if any is down."""
    sys.exit(0 if _print_status(settings) else 1)


@main.command("config")
@json_option
@click.pass_obj
def show_config(settings: Settings, as_json: bool) -> None:
    """Print the effective settings (secrets masked) and tunables; exit 2 if invalid."""
    from moviepipe.tunables import ConfigError

    with exits_on(ConfigError, code=EXIT_INPUT):
        report = settings.effective()
    if as_json:
        echo_json(report)
        return
    for title, values in (("settings", report["settings"]), ("tunables", report["tunables"])):
        click.echo(f"{title}:")
        for key, value in flatten(values).items():
            click.echo(f"  {key:<42} {human(value)}")


@main.command("run")
@click.option("--events", default=5000, show_default=True, help="Simulated events to produce.")
@click.option(
    "--spark-offline",
    is_flag=True,
    envvar="MOVIEPIPE_SPARK_OFFLINE",
    help="Land with the pandas fallback instead of Spark (env MOVIEPIPE_SPARK_OFFLINE=1).",
)
@click.pass_obj
def run(settings: Settings, events: int, spark_offline: bool) -> None:
    """Every step in order on the sample data, then a summary and the stack's status."""
    from moviepipe import pipeline, run_progress

    start = time.monotonic()
    results, logs, run_id = run_progress.run_live(
        pipeline.plan(events=events, spark_offline=spark_offline), settings.log_dir / "run"
    )
    failures = pipeline.failed(results)
    settings = load_settings()  # `services up` may have generated passwords
    if not failures:
        run_progress.print_summary(settings, run_id, pipeline.warehouse_summary(settings))
        click.echo("\ngold.kpi_highest_revenue (as the reader role sees it):")
        for rank, title, revenue in pipeline.top_revenue(settings):
            click.echo(f"  {rank}. {title} ({revenue:,.1f} M USD)")
    click.echo(f"\nrun finished in {time.monotonic() - start:.0f}s; services:")
    healthy = _print_status(settings)
    if failures:
        step = failures[0].step
        log = logs.get(step.name)
        click.echo(run_progress.tail(log) if log else "", err=True)
        fail(f"step '{step.name}' failed; its log: {log}")
    if not healthy:
        sys.exit(1)
