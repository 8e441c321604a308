"""Airflow's overhead and a warm ``make run``: ``python -m bench orchestration``.

* ``tmdb_daily`` under ``dag.test()`` (:mod:`orchestration.dagtest`) against the very steps
  its tasks run, started one after the other by :func:`moviepipe.pipeline.run_steps` (one
  ``moviepipe transform`` for the cosmos group, whose producer task runs the one
  ``dbt build``), as a ratio; target at most 1.5x. The DAG runs first: its TMDB
  ``--changes`` window starts at the warehouse's bookmark, the plain steps' at today, so the
  DAG never has less to do (the ratio errs against Airflow);
* a warm ``moviepipe run`` (what ``make run`` runs once set up), end to end; target 180 s.

Both run on the local stack's warehouse with the local TMDB-shaped server standing in
for TMDB (``TMDB_BASE_URL``), so nothing leaves the machine. A run that fails is reported
with the failed step or tasks next to its time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from moviepipe.config import load_settings
from moviepipe.pipeline import Step, run_steps
from moviepipe.pipeline import step_env as pipeline_step_env
from moviepipe.runlog import new_run_id

TARGET_RATIO = 1.5
TARGET_RUN_S = 180.0
DAILY_STEPS = [
    Step("extract tmdb", ("extract", "tmdb", "--changes", "--no-progress")),
    Step("extract mongo", ("extract", "mongo")),
    Step("enrich", ("enrich",)),
    Step("rules check", ("rules", "check")),
    Step("transform", ("transform",)),
    Step("quality", ("quality",)),
    Step("docs", ("docs",)),
]


def _verdict(value: float, target: float) -> str:
    return f"(target <= {target:g}: {'ok' if value <= target else 'MISSED'})"


def _timed_steps(env: dict[str, str]) -> tuple[float, str | None]:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        step_env = pipeline_step_env(new_run_id("bench"))
        log = load_settings().log_dir / "bench-orchestration-steps.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w", encoding="utf-8") as out:

            def runner(argv: list[str]) -> int:
                # The steps' own output (dbt's included) goes to the log, not the figures.
                return subprocess.run(argv, env=step_env, stdout=out, stderr=out).returncode

            start = time.monotonic()
            results = run_steps(DAILY_STEPS, echo=lambda _: None, runner=runner)
        failed = next((r.step.name for r in results if r.returncode), None)
        return time.monotonic() - start, failed
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _timed_dag_test(env: dict[str, str]) -> tuple[float, float, str | None]:
    """Wall time of the whole child process, of ``dag.test()`` alone, and what failed."""
    from orchestration.dagtest import run_in_child

    start = time.monotonic()
    summary, output = run_in_child("tmdb_daily", env)
    wall = time.monotonic() - start
    if summary is None:
        return wall, float("nan"), (output.strip().splitlines() or ["no result"])[-1]
    bad = sorted(t for t, s in summary["tasks"].items() if s != "success")
    note = None if summary["state"] == "success" else f"{summary['state']}: {', '.join(bad)}"
    return wall, summary["seconds"], note


def main() -> None:
    from extract.cli import LOCAL_KEY
    from extract.tmdb.dev.fakeserver import running_server
    from extract.tmdb.dev.sample import SAMPLE_PATH
    from orchestration.airflow_env import airflow_env, ensure_db

    # The warm `moviepipe run` first: it lands the sample's events, so the daily steps
    # after it build every mart from a populated warehouse.
    start = time.monotonic()
    code = subprocess.run(
        [sys.executable, "-m", "commands", "run"], capture_output=True, check=False
    ).returncode
    warm = time.monotonic() - start
    exit_note = "" if code == 0 else f"   (exit {code})"
    label = "warm moviepipe run (make run), end to end"
    print(f"{label:<44}{warm:7.1f} s   {_verdict(warm, TARGET_RUN_S)}{exit_note}", flush=True)

    settings = load_settings()
    env = airflow_env(settings)
    ensure_db(settings, env)
    with running_server(SAMPLE_PATH, api_key=LOCAL_KEY) as url:
        env.update({"TMDB_BASE_URL": url, "TMDB_API_KEY": LOCAL_KEY})
        wall, airflow, dag_failed = _timed_dag_test(env)
        plain, plain_failed = _timed_steps(env)
    print(f"{'tmdb_daily steps, moviepipe commands':<44}{plain:7.1f} s"
          + (f"   (failed at {plain_failed})" if plain_failed else ""))  # fmt: skip
    print(f"{'tmdb_daily under dag.test()':<44}{airflow:7.1f} s"
          + (f"   ({dag_failed})" if dag_failed else ""))  # fmt: skip
    print(f"{'  the same, with DAG parsing (process)':<44}{wall:7.1f} s")
    ratio = airflow / plain
    print(f"{'Airflow overhead (ratio)':<44}{ratio:7.2f} x   {_verdict(ratio, TARGET_RATIO)}")
