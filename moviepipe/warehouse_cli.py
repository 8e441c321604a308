"""``moviepipe transform``, ``moviepipe rules``, ``moviepipe docs``: the dbt side of the CLI."""

from __future__ import annotations

import click


@click.group()
def rules() -> None:
    """Business rules in transform_rules.json."""
