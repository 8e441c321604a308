"""``moviepipe enrich``: score new comments (sentiment) into raw.comment_sentiment.

Usage::

    moviepipe enrich [--scorer lexicon] [--batch-size 5000] [--json]
"""

from __future__ import annotations

import click

from moviepipe.cli_support import echo_json, exits_on, json_option
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
@json_option
@click.pass_obj
def enrich(settings: Settings, scorer_name: str, batch_size: int, as_json: bool) -> None:
    """Score every comment not yet scored by this scorer version (idempotent)."""
    from enrich.store import run_enrich

    # Any failure: a clear message and a non-zero exit, never a traceback.
    with exits_on(Exception, prefix="enrich failed: "):
        summary = run_enrich(settings, scorer_name=scorer_name, batch_size=batch_size)
    if as_json:
        echo_json(summary, indent=None)
    else:
        click.echo(
            f"scored {summary['scored']} comments with {summary['scorer']} "
            f"{summary['version']} in {summary['seconds']}s (run {summary['run_id']})"
        )
