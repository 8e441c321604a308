"""Lineage: steps started with a pipeline run id record it; lineage finds them by run and row."""

from __future__ import annotations

import os
import subprocess

import pytest

from moviepipe import db, lineage
from moviepipe.pipeline import Step, moviepipe_argv, step_env


def test_pg_options_refuse_a_run_id_that_would_break_the_option_string():
    assert lineage.pg_options("manual__2026-12-02T09:00:00+00:00", "-c jit=off").endswith(
        "-c moviepipe.run_id=manual__2026-12-02T09:00:00+00:00"
    )
    with pytest.raises(ValueError):
        lineage.pg_options("a b -c x=y")


def _settings_env(settings) -> dict[str, str]:
    # The step process must use the test database, with the stack's passwords.
    env = {"PGDATABASE": settings.pgdatabase}
    for role in ("loader", "transformer", "reader"):
        pw = settings.role_password(role)
        if pw:
            env[f"MOVIEPIPE_{role.upper()}_PASSWORD"] = pw
    return env


def test_a_pipeline_run_records_its_id_and_lineage_finds_the_movie(pg_settings):
    run_id = "manual__2026-12-02T09:00:00+00:00"
    env = {**step_env(run_id), **_settings_env(pg_settings)}
    step = Step("extract tmdb", ("extract", "tmdb", "--local-sample", "--discover-pages", "1",
                                 "--no-progress"))  # fmt: skip
    proc = subprocess.run(moviepipe_argv(step), env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]

    steps = lineage.run_lineage(pg_settings, run_id)
    assert [s.step for s in steps] == ["extract tmdb"]
    landed = steps[0].writes["raw.tmdb_movies"]
    assert landed > 0 and steps[0].reads == "TMDB API"

    with db.connect(pg_settings, "admin", autocommit=True) as conn:
        movie = conn.execute(
            "select movie_id from raw.tmdb_movies where run_id = %s limit 1", (steps[0].run_id,)
        ).fetchone()[0]
    raw_runs, touched, present = lineage.row_lineage(pg_settings, movie=movie)
    assert steps[0].run_id in raw_runs
    assert [s.run_id for s in touched] == [steps[0].run_id]
    assert set(present) == {"silver.movies_curated", "gold.dim_movie"}
    assert os.environ.get("MOVIEPIPE_RUN_ID") != run_id  # the parent's environment is untouched
