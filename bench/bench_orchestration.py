"""Airflow's overhead and a warm ``make run``: ``python -m bench orchestration``.

* ``tmdb_daily`` under ``dag.test()`` against the same steps run by
  :func:`moviepipe.pipeline.run_steps` (the ``moviepipe`` commands its tasks call, with one
  ``moviepipe transform`` for the cosmos group), as a ratio; target at most 1.5x;
* a warm ``moviepipe run`` (what ``make run`` runs once set up), end to end; target 180 s.

Both run on the local stack's warehouse with the local TMDB-shaped server standing in
for TMDB (``TMDB_BASE_URL``), so nothing leaves the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from moviepipe.config import load_settings
from moviepipe.pipeline import Step, run_steps

TARGET_RATIO = 1.5
TARGET_RUN_S = 180.0
DAILY_STEPS = [
    Step("extract tmdb", ("extract", "tmdb", "--changes", "--no-progress")),
    Step("extract mongo", ("extract", "mongo")),
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
        start = time.monotonic()
        results = run_steps(DAILY_STEPS, echo=lambda _: None)
        failed = next((r.step.name for r in results if r.returncode), None)
        return time.monotonic() - start, failed
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _timed_dag_test(env: dict[str, str]) -> tuple[float, str | None]:
    # A child process: Airflow's settings are read at import, from this environment.
    code = (
        "import time,sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        "from orchestration.airflow_env import DAGS_FOLDER\n"
        "dag = DagBag(dag_folder=str(DAGS_FOLDER)).dags['tmdb_daily']\n"
        "t = time.monotonic(); run = dag.test()\n"
        "bad = [ti.task_id for ti in run.get_task_instances() if ti.state != 'success']\n"
        "print('RESULT', time.monotonic() - t, run.state, ','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        return float("nan"), proc.stderr.strip().splitlines()[-1:] or "no result"
    _, seconds, state, bad = line.split(" ", 3)
    return float(seconds), None if state == "success" else f"{state}: {bad}"


def main() -> None:
    from extract.cli import LOCAL_KEY
    from extract.tmdb.dev.fakeserver import running_server
    from extract.tmdb.dev.sample import SAMPLE_PATH
    from orchestration.airflow_env import airflow_env, ensure_db

    settings = load_settings()
    env = airflow_env(settings)
    ensure_db(settings, env)
    with running_server(SAMPLE_PATH, api_key=LOCAL_KEY) as url:
        env.update({"TMDB_BASE_URL": url, "TMDB_API_KEY": LOCAL_KEY})
        plain, plain_failed = _timed_steps(env)
        airflow, dag_failed = _timed_dag_test(env)
    print(f"{'tmdb_daily steps, moviepipe commands':<44}{plain:7.1f} s"
          + (f"   (failed at {plain_failed})" if plain_failed else ""))  # fmt: skip
    print(f"{'tmdb_daily under dag.test()':<44}{airflow:7.1f} s"
          + (f"   ({dag_failed})" if dag_failed else ""))  # fmt: skip
    ratio = airflow / plain
    print(f"{'Airflow overhead (ratio)':<44}{ratio:7.2f} x   {_verdict(ratio, TARGET_RATIO)}")

    start = time.monotonic()
    code = subprocess.run(
        [sys.executable, "-m", "commands", "run"], capture_output=True, check=False
    ).returncode
    warm = time.monotonic() - start
    exit_note = "" if code == 0 else f"   (exit {code})"
    label = "warm moviepipe run (make run), end to end"
    print(f"{label:<44}{warm:7.1f} s   {_verdict(warm, TARGET_RUN_S)}{exit_note}")
