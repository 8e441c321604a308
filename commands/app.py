"""The root ``moviepipe`` group: the core commands plus every layer's command group.

A layer adds its group by one line in :data:`COMMAND_GROUPS` (heavy imports stay
inside each command, so assembling the tree stays cheap). Usage::

    from commands.app import main
    main(["config", "--json"])
"""

from __future__ import annotations

import click

from enrich.cli import enrich
from extract.cli import extract
from moviepipe.cli import main
from moviepipe.retention_cli import retention
from moviepipe.warehouse_cli import lint_sql, rules, transform
from orchestration.cli import airflow, lineage
from quality.cli import publish, quality
from serving.charts.cli import charts
from serving.cli import serve
from serving.metabase.cli import metabase
from serving.site.cli import docs
from streaming.cli import stream
from streaming.collector.cli import collect

# Every command group under `moviepipe`, in the order `--help` lists them.
COMMAND_GROUPS: tuple[click.Command, ...] = (
    extract,
    stream,
    enrich,
    rules,
    transform,
    docs,
    lint_sql,
    airflow,
    lineage,
    retention,
    publish,
    quality,
    charts,
    metabase,
    serve,
    collect,
)

for _command in COMMAND_GROUPS:
    main.add_command(_command)

__all__ = ["COMMAND_GROUPS", "main"]
