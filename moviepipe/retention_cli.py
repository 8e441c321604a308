"""``moviepipe retention apply``: drop or archive the event partitions past retention.

Usage::

    moviepipe retention apply                    # older than partitions.retention_months
    moviepipe retention apply --months 12 --dry-run
    moviepipe retention apply --archive /backups/events   # gzipped CSV per partition first

Each run is one row of ``ops.run_log`` (step ``retention apply``); each partition dropped
one row of ``ops.retention_log``. The work is :mod:`moviepipe.retention`'s.
"""

from __future__ import annotations

from pathlib import Path

import click

from moviepipe.cli_support import emit, json_option
from moviepipe.config import Settings


@click.group()
def retention() -> None:
    """Retention of the monthly partitions of the raw event tables."""


@retention.command("apply")
@click.option(
    "--months",
    type=click.IntRange(min=1),
    help="Keep this many months before the current one [default: partitions.retention_months].",
)
@click.option("--dry-run", is_flag=True, help="Only list the partitions that would go.")
@click.option(
    "--archive",
    "archive_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="First COPY each partition to DIR/<partition>.csv.gz, then drop it.",
)
@json_option
@click.pass_obj
def retention_apply(
    settings: Settings, months: int | None, dry_run: bool, archive_dir: Path | None, as_json: bool
) -> None:
    """Drop (or archive, then drop) every event partition entirely older than N months."""
    from moviepipe import db, retention, runlog

    months = months or settings.tunables.partitions.retention_months
    run_id = runlog.new_run_id("retention")
    args = {"months": months, "dry_run": dry_run, "archive": str(archive_dir or "") or None}
    with (
        db.connect(settings, "admin", autocommit=True) as conn,
        runlog.run(conn, run_id, "retention apply", args) as run,
    ):
        actions = retention.apply(conn, months, run_id, dry_run=dry_run, archive_dir=archive_dir)
        run.summary = {
            "partitions": len(actions),
            "rows": sum(a["rows"] or 0 for a in actions),
            "dry_run": dry_run,
        }
    emit({"run_id": run_id, **run.summary, "actions": actions}, as_json, _lines)


def _lines(report: dict) -> list[str]:
    lines = [
        f"{a['action']:<10} {a['name']} [{a['range_from']:%Y-%m-%d}, {a['range_to']:%Y-%m-%d})"
        + (f" {a['rows']:,} rows" if a["rows"] is not None else "")
        + (f" -> {a['archive_path']}" if a.get("archive_path") else "")
        for a in report["actions"]
    ]
    verb = "would drop" if report["dry_run"] else "retired"
    return [*lines, f"{verb} {report['partitions']} partitions, run {report['run_id']}"]
