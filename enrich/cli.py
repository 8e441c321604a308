"""``moviepipe enrich``: score new comments (sentiment) into raw.comment_sentiment.

Usage::

    moviepipe enrich [--scorer lexicon] [--batch-size 5000] [--json]
"""

from __future__ import annotations

import json
import sys

import click

from moviepipe.config import Settings


@click.command("enrich")
@click.option(
    "--scorer", "scorer_name", default="lexicon", show_default=True, help="Scorer to use."
)
@click.option(
    "--batch-size",
    default=5000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Comments per transaction.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def enrich(settings: Settings, scorer_name: str, batch_size: int, as_json: bool) -> None:
    """Score every comment not yet scored by this scorer version (idempotent)."""
    from enrich.store import run_enrich

    try:
        summary = run_enrich(settings, scorer_name=scorer_name, batch_size=batch_size)
    except Exception as exc:  # a clear message and a non-zero exit, never a traceback
        click.echo(f"error: enrich failed: {exc}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(
            f"scored {summary['scored']} comments with {summary['scorer']} "
            f"{summary['version']} in {summary['seconds']}s (run {summary['run_id']})"
        )
