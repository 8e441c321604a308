"""``moviepipe run``'s console: live progress per step (rich), each step's own output
(Spark's and dbt's console noise included) in a log file, and the end summary.

Usage::

    from moviepipe import pipeline, run_progress
    results, logs = run_progress.run_live(pipeline.plan(), settings.log_dir / "run")
    run_progress.print_summary(settings, results, logs)
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from moviepipe.config import Settings
from moviepipe.pipeline import Step, StepResult, run_steps, step_env
from moviepipe.runlog import new_run_id

console = Console(highlight=False)


def log_path(log_dir: Path, index: int, step: Step) -> Path:
    return log_dir / f"{index:02d}-{re.sub(r'[^a-z0-9]+', '-', step.name.lower()).strip('-')}.log"


def run_live(
    steps: Sequence[Step], log_dir: Path, run_id: str | None = None
) -> tuple[list[StepResult], dict[str, Path], str]:
    """Run ``steps`` with a spinner per step; output to ``log_dir``; (results, logs, run id)."""
    run_id = run_id or new_run_id("run")
    log_dir.mkdir(parents=True, exist_ok=True)
    env = step_env(run_id)
    logs: dict[str, Path] = {}
    queue = iter(enumerate(steps, 1))

    def runner(argv: list[str]) -> int:
        index, step = next(queue)
        path = logs[step.name] = log_path(log_dir, index, step)
        with (
            open(path, "w", encoding="utf-8") as out,
            console.status(f"[{index}/{len(steps)}] {step.name} … (log {path})"),
        ):
            return subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT).returncode

    def echo(line: str) -> None:
        # run_steps reports each step's end as "<== name: verdict in Ns".
        if line.startswith("<== "):
            ok = ": ok in " in line
            console.print(f"[{'green' if ok else 'red'}]{'✓' if ok else '✗'}[/] {line[4:]}")

    console.print(f"run id {run_id}; step logs in {log_dir}")
    return run_steps(steps, echo=echo, runner=runner, run_id=run_id), logs, run_id


def tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def gate_results(settings: Settings, run_id: str) -> list[tuple[str, int, int, list[str]]]:
    """Per layer of this run's gates: (layer, suites passed, suites, the failed suites)."""
    from moviepipe import db

    with db.connect(settings, "admin", autocommit=True) as conn:
        return conn.execute(
            "select layer, count(*) filter (where success)::int, count(*)::int,"
            " coalesce(array_agg(coalesce(suite, checkpoint) order by suite)"
            "   filter (where not success), '{}')"
            " from ops.quality_results where run_id = %s"
            " group by layer order by array_position(array['raw', 'silver', 'gold'], layer)",
            (run_id,),
        ).fetchall()


def print_summary(settings: Settings, run_id: str, rows: list[tuple[str, int | None]]) -> None:
    """Rows per layer (rejected included), gate results, what is published, the sites."""
    from rich.table import Table

    table = Table(title="warehouse", show_edge=False)
    table.add_column("layer")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in rows:
        table.add_row(name.split(".")[0], name, "missing" if count is None else f"{count:,}")
    console.print(table)
    gates = gate_results(settings, run_id)
    if gates:
        for layer, passed, total, failed in gates:
            verdict = "[green]pass" if passed == total else f"[red]FAIL {', '.join(failed)}"
            console.print(f"gate {layer:<7} {passed}/{total} suites  {verdict}")
    else:
        console.print("gates: none recorded for this run")
    published = dict(rows).get("gold.fact_user_event") is not None
    console.print(f"published: {'gold' if published else 'nothing'}")
    docs = settings.home / "docs"
    for label, path in (
        ("dbt docs", docs / "dbt" / "index.html"),
        ("GX data docs", docs / "gx" / "index.html"),
        ("charts", docs / "charts"),
    ):
        console.print(f"{label:<13} {path}{'' if path.exists() else ' (not built)'}")
