"""Run one ``moviepipe`` command from an Airflow task, exactly as ``moviepipe run`` does.

The argv comes from :func:`moviepipe.pipeline.moviepipe_argv`, so a task, a Make target
and ``moviepipe run`` start the very same command. The Airflow run id is passed as
``MOVIEPIPE_RUN_ID`` so every step of one DAG run logs under one run id::

    from orchestration.steps import run_moviepipe
    run_moviepipe(["extract", "mongo"], run_id="manual__2026-12-02T09:00:00+00:00")
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from moviepipe.lineage import pg_options
from moviepipe.pipeline import Step, moviepipe_argv

RUN_ID_ENV = "MOVIEPIPE_RUN_ID"


class StepFailed(RuntimeError):
    """A ``moviepipe`` command exited non-zero; the message names it and its exit code."""


def run_moviepipe(args: Sequence[str], *, run_id: str | None = None) -> str:
    """Run ``moviepipe ARGS``; return its standard output, raise :class:`StepFailed`."""
    env = dict(os.environ)
    if run_id:
        env[RUN_ID_ENV] = run_id
        # Every connection of the step records the run id in ops.run_log.pipeline_run_id.
        env["PGOPTIONS"] = pg_options(run_id, env.get("PGOPTIONS"))
    argv = moviepipe_argv(Step(" ".join(args), tuple(args)))
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    # Printed so the task log holds the command's own output.
    print(proc.stdout)
    if proc.stderr:
        print(proc.stderr)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-10:])
        raise StepFailed(f"moviepipe {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout
