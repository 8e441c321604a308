"""``moviepipe stream ...``: command group for the event pipeline."""

from __future__ import annotations

import click


@click.group()
def stream() -> None:
    """Produce, land, back up and reconcile front-end events."""
