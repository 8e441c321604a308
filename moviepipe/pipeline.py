"""``moviepipe run``: every step of the pipeline, in order, on the bundled sample.

Each step is a ``moviepipe`` command run as its own process — exactly what the
Make targets and the Airflow tasks run — so a step behaves the same wherever it
is started, and a Spark JVM or a dbt run never outlives its step.

Usage::

    from moviepipe.pipeline import plan, run_steps
    run_steps(plan(events=5000, spark_offline=False))
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from moviepipe.config import Settings
from moviepipe.runlog import new_run_id


@dataclass(frozen=True)
class Step:
    name: str
    args: tuple[str, ...]
    # A step that only reports (reconciliation) must not stop the run.
    fatal: bool = True


@dataclass(frozen=True)
class StepResult:
    step: Step
    returncode: int
    seconds: float


def plan(*, events: int = 5000, spark_offline: bool = False) -> list[Step]:
    """The ordered steps of a full run on the sample data."""
    if spark_offline:
        # Fallback rows are never merged automatically: an operator promotes a run.
        landing = Step("stream fallback", ("stream", "fallback", "--available-now"))
    else:
        landing = Step("stream land", ("stream", "land", "--available-now"))
    return [
        Step("services up", ("services", "up")),
        Step("rules check", ("rules", "check")),
        # Every movie of the sample: discover stops at the server's last page.
        Step(
            "extract tmdb",
            ("extract", "tmdb", "--local-sample", "--discover-pages", "500", "--no-progress"),
        ),
        Step("stream produce", ("stream", "produce", "--events", str(events))),
        Step("stream backup", ("stream", "backup", "--available-now")),
        landing,
        Step("extract mongo", ("extract", "mongo")),
        Step("enrich", ("enrich",)),
        Step("transform", ("transform",)),
        # dbt built gold_build; the gate validates raw, silver and the build and, on a pass,
        # publishes it as gold (docs/quality.md). A failure stops the run, gold unchanged.
        Step("quality", ("quality",)),
        Step("stream reconcile", ("stream", "reconcile"), fatal=False),
    ]


def moviepipe_argv(step: Step) -> list[str]:
    return [sys.executable, "-m", "commands", *step.args]


def step_env(run_id: str) -> dict[str, str]:
    """The environment of every step of pipeline run ``run_id``."""
    from moviepipe.lineage import pg_options

    env = dict(os.environ)
    env["MOVIEPIPE_RUN_ID"] = run_id
    env["PGOPTIONS"] = pg_options(run_id, env.get("PGOPTIONS"))
    return env


def run_steps(
    steps: Sequence[Step],
    *,
    echo: Callable[[str], None] = print,
    runner: Callable[[list[str]], int] | None = None,
    run_id: str | None = None,
) -> list[StepResult]:
    """Run ``steps`` in order; stop at the first fatal failure (it is the last result).

    Every step runs under one pipeline run id (``run_id``, default a new one), recorded
    in ``ops.run_log.pipeline_run_id`` (see :mod:`moviepipe.lineage`)."""
    env = step_env(run_id or new_run_id("run"))
    run = runner or (lambda argv: subprocess.run(argv, env=env, check=False).returncode)
    results: list[StepResult] = []
    for i, step in enumerate(steps, 1):
        echo(f"\n==> [{i}/{len(steps)}] moviepipe {' '.join(step.args)}")
        start = time.monotonic()
        code = run(moviepipe_argv(step))
        result = StepResult(step, code, time.monotonic() - start)
        results.append(result)
        verdict = "ok" if code == 0 else f"FAILED (exit {code})"
        echo(f"<== {step.name}: {verdict} in {result.seconds:.1f}s")
        if code != 0 and step.fatal:
            break
    return results


def failed(results: Sequence[StepResult]) -> list[StepResult]:
    return [r for r in results if r.returncode != 0 and r.step.fatal]


SUMMARY_TABLES = (
    "raw.tmdb_movies",
    "raw.user_events",
    "raw.user_events_fallback",
    "raw.user_events_rejected",
    "raw.mongo_user_logs",
    "raw.mongo_comments",
    "silver.movies_curated",
    "gold.fact_user_event",
    "gold.dim_movie",
    "gold.dim_session",
    "gold.kpi_highest_revenue",
)


def warehouse_summary(settings: Settings) -> list[tuple[str, int | None]]:
    """Row counts per layer (``None`` for a table that does not exist yet)."""
    from moviepipe import db

    counts: list[tuple[str, int | None]] = []
    with db.connect(settings, "admin", autocommit=True) as conn:
        for table in SUMMARY_TABLES:
            exists = conn.execute("select to_regclass(%s)", (table,)).fetchone()[0]
            count = conn.execute(f"select count(*) from {table}").fetchone()[0] if exists else None
            counts.append((table, count))
    return counts


def top_revenue(settings: Settings) -> list[tuple[int, str, float]]:
    """The gold KPI the reader role sees: highest revenue, as the API will serve it."""
    from moviepipe import db

    with db.connect(settings, "reader", autocommit=True) as conn:
        return conn.execute(
            "select rank, title, revenue_musd from gold.kpi_highest_revenue order by rank"
        ).fetchall()
