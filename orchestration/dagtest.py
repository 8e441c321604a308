"""Run one DAG of the project with ``dag.test()`` and print a JSON summary (tests, bench).

Airflow reads its settings at import, so this runs as its own process with the
environment of :func:`orchestration.airflow_env.airflow_env`::

    python -m orchestration.dagtest tmdb_daily
    # {"dag_id": ..., "run_id": ..., "state": "success", "seconds": 95.1,
    #  "tasks": {"extract_mongo": "success", ...}, "asset_events": [{"uri": ..., "task_id": ...}]}

Exit status 0 when the run succeeded, 1 otherwise. From Python, in a child process::

    summary, output = run_in_child("tmdb_daily", env)   # summary None: no result line
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping


def asset_events(run_id: str) -> list[dict[str, str]]:
    """The Asset events the DAG run emitted (uri, emitting task), from Airflow's database."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetModel.uri, AssetEvent.source_task_id)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetEvent.source_run_id == run_id)
        ).all()
    return [{"uri": uri, "task_id": task_id} for uri, task_id in rows]


def run_in_child(
    dag_id: str, env: Mapping[str, str], timeout: float | None = None
) -> tuple[dict | None, str]:
    """``python -m orchestration.dagtest DAG_ID`` with ``env``: its summary (None when it
    printed none) and its whole output, Airflow's log included."""
    from moviepipe.config import PROJECT_DIR

    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.dagtest", dag_id],
        env=dict(env),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    lines = proc.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    return summary, proc.stdout + proc.stderr


def main(argv: list[str] | None = None) -> int:
    from airflow.dag_processing.dagbag import DagBag

    from orchestration.airflow_env import DAGS_FOLDER

    (dag_id,) = argv if argv is not None else sys.argv[1:]
    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if dag_id not in bag.dags:
        print(json.dumps({"dag_id": dag_id, "import_errors": bag.import_errors}))
        return 1
    start = time.monotonic()
    run = bag.dags[dag_id].test()
    summary = {
        "dag_id": dag_id,
        "run_id": run.run_id,
        "state": str(run.state),
        "seconds": round(time.monotonic() - start, 1),
        "tasks": {ti.task_id: str(ti.state) for ti in run.get_task_instances()},
        "asset_events": asset_events(run.run_id),
    }
    # The last line of the output: Airflow's own log lines come before it.
    print(json.dumps(summary))
    return 0 if summary["state"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
