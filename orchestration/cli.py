"""``moviepipe airflow ARGS...``: Airflow's own CLI on the project's home and DAGs.

::

    moviepipe airflow dags list
    moviepipe airflow dags test tmdb_daily
    moviepipe airflow standalone          # web UI on http://127.0.0.1:58080
"""

from __future__ import annotations

import sys

import click

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
