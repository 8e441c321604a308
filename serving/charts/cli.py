"""``moviepipe charts``: the PNG charts from gold into ``.local/docs/charts/``.

Usage::

    moviepipe charts                       # all seven
    moviepipe charts -n yearly_trends --out /tmp/charts --json
"""

from __future__ import annotations

from pathlib import Path

import click

from moviepipe.cli_support import echo_json, exits_on, json_option
from moviepipe.config import Settings


@click.command("charts")
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Default .local/docs/charts."
)
@click.option("-n", "--name", "names", multiple=True, help="Only this chart (repeatable).")
@json_option
@click.pass_obj
def charts(settings: Settings, out: Path | None, names: tuple[str, ...], as_json: bool) -> None:
    """PNG charts from gold (reader role) into .local/docs/charts/."""
    import psycopg

    from serving.charts import build_charts

    with exits_on(KeyError, psycopg.Error, prefix="charts: "):
        written = build_charts(settings, out, names or None)
    if as_json:
        echo_json([c.as_json() for c in written])
        return
    for chart in written:
        note = f"{chart.rows} rows" if chart.rows else f"no data yet ({chart.source})"
        click.echo(f"{chart.name:<26} {note:<40} {chart.path}")
