"""``moviepipe publish [--rollback]``: the blue/green swap of gold.

moviepipe publish              # gold_build -> gold, gold -> gold_previous
moviepipe publish --rollback   # gold_previous <-> gold
moviepipe quality              # GX checkpoints raw, silver, gold_build; on a pass, publish
"""

from __future__ import annotations

import os
from pathlib import Path

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


@click.command("quality")
@click.option("--run-id", default=None, help="Run id of ops.quality_results (default a new one).")
@click.option("--docs-dir", type=click.Path(path_type=Path), default=None,
              help="Data docs directory (default MOVIEPIPE_HOME/docs/gx).")  # fmt: skip
@click.option("--no-publish", is_flag=True, help="Only validate; never publish.")
@click.pass_obj
def quality(
    settings: Settings, run_id: str | None, docs_dir: Path | None, no_publish: bool
) -> None:
    """Great Expectations checkpoints raw, silver, gold (the build); on a pass, publish gold.

    A failure exits 1, names each failed expectation and its data docs page, and
    leaves the published gold as it was.
    """
    from moviepipe.cli_support import fail
    from moviepipe.runlog import new_run_id
    from quality import publish as pub
    from quality.gate import run_gates

    run_id = run_id or os.environ.get("MOVIEPIPE_RUN_ID") or new_run_id("quality")
    with exits_on(pub.PublishError):
        outcome = run_gates(
            settings, run_id=run_id, docs_dir=docs_dir, publish=not no_publish, echo=click.echo
        )
    click.echo(f"data docs: {outcome.docs_index}")
    if outcome.success:
        click.echo(
            f"quality: {len(outcome.suites)} suites passed in {outcome.seconds['total']:.1f}s"
            + ("; gold published" if outcome.published else "")
        )
        return
    for s in outcome.failures:
        for f in s.failed:
            observed = f["error"] or (
                f["observed_value"] if f["observed_value"] is not None else f["unexpected_count"]
            )
            click.echo(
                f"FAILED {s.suite}: {f['expectation']} {f['description'] or ''}"
                f" (observed {observed}; sample {f['unexpected_sample']})",
                err=True,
            )
        click.echo(f"  page: {s.page}", err=True)
    fail(f"quality gate failed ({len(outcome.failures)} suites); gold is unchanged (run {run_id})")
