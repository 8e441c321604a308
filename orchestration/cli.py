"""``moviepipe airflow ARGS...``: Airflow's own CLI on the project's home and DAGs.

::

    moviepipe airflow dags list
    moviepipe airflow dags test tmdb_daily
    moviepipe airflow standalone          # web UI on http://127.0.0.1:58080
"""

from __future__ import annotations

import sys

import click

from moviepipe.cli_support import echo_json, fail, json_option
from moviepipe.config import Settings


@click.command(
    "airflow", context_settings={"ignore_unknown_options": True, "help_option_names": []}
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def airflow(settings: Settings, args: tuple[str, ...]) -> None:
    """Airflow's CLI with the project's home (.local/airflow), DAGs and settings."""
    from orchestration.airflow_env import run_airflow

    sys.exit(run_airflow(settings, args or ("--help",)))


@click.command("lineage")
@click.argument("run_id", required=False)
@click.option("--movie", type=int, help="TMDB movie id: which runs touched it, raw to gold.")
@click.option("--event", help="Event id (UUID): which runs touched it.")
@json_option
@click.pass_obj
def lineage(
    settings: Settings, run_id: str | None, movie: int | None, event: str | None, as_json: bool
) -> None:
    """What a run read and wrote per step; which runs touched a movie or an event."""
    from dataclasses import asdict

    from moviepipe import lineage as lin

    if sum(x is not None for x in (run_id, movie, event)) != 1:
        raise click.UsageError("give exactly one of RUN_ID, --movie ID, --event ID")
    if run_id:
        steps, extra = lin.run_lineage(settings, run_id), {}
    else:
        raw_runs, steps, present = lin.row_lineage(settings, movie=movie, event=event)
        extra = {"raw_runs": raw_runs, "present": present}
    if as_json:
        echo_json({"steps": [asdict(s) for s in steps], **extra}, indent=None)
        return
    if not steps:
        fail("no run found")
    for s in steps:
        wrote = ", ".join(f"{t} {n:,}" for t, n in s.writes.items()) or "no raw rows"
        click.echo(f"{s.started_at:%Y-%m-%d %H:%M:%S} {s.step:<24} {s.status:<9} {s.run_id}")
        click.echo(f"    read: {s.reads}\n    wrote: {wrote}")
    for table, here in extra.get("present", {}).items():
        click.echo(f"{table:<24} {'present' if here else 'absent'}")
