"""``moviepipe publish [--rollback]``: the blue/green swap of gold.

moviepipe publish              # gold_build -> gold, gold -> gold_previous
moviepipe publish --rollback   # gold_previous <-> gold
"""

from __future__ import annotations

import click

from moviepipe.cli_support import exits_on
from moviepipe.config import Settings


@click.command("publish")
@click.option("--rollback", is_flag=True, help="Swap the previous gold back instead.")
@click.option("--run-id", default=None, help="Run id recorded in ops.publish_log.")
@click.pass_obj
def publish(settings: Settings, rollback: bool, run_id: str | None) -> None:
    """Publish the build schema as gold in one transaction (or roll back)."""
    from quality import publish as pub

    action = pub.rollback if rollback else pub.publish
    with exits_on(pub.PublishError):
        action(settings, run_id=run_id, echo=click.echo)
