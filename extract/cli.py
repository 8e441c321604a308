"""``moviepipe extract ...``: command group for the extractors."""

from __future__ import annotations

import click


@click.group()
def extract() -> None:
    """Land source data into the bronze layer (raw)."""
