"""Fixtures for the warehouse tests: raw fixtures landed as the loader, dbt run through the CLI.

The warehouse tests get databases of their own (``wh_settings``, ``fresh_database``):
other test packages land events into the shared ``pg_settings`` database, and
the KPI and event assertions here need to know every raw row.

dbt builds gold into the build schema ``gold_build`` (write-audit-publish,
docs/quality.md); ``transform`` publishes a build with ``moviepipe publish`` so
the assertions on ``gold.*`` read what was just built. The quality gate itself
(``moviepipe quality``) is tested in tests/quality on data sized for its thresholds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from moviepipe import db
from moviepipe.config import Settings
from moviepipe.dbt_runner import default_target_path
from quality.suites import KPI_TOP_N_TABLES
from tests.warehouse import fixtures

MOVIEPIPE = str(Path(sys.executable).with_name("moviepipe"))
KPI_TABLES = (*KPI_TOP_N_TABLES, "kpi_franchise_vs_standalone")


def moviepipe(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI against the settings' database (passwords come from .local/secrets.env)."""
    env = {**os.environ, "PGDATABASE": settings.pgdatabase}
    return subprocess.run(
        [MOVIEPIPE, *args], env=env, text=True, capture_output=True, check=False, timeout=600
    )


def is_build(dbt_args: tuple[str, ...]) -> bool:
    """``moviepipe transform`` runs ``dbt build`` when no dbt command comes first."""
    return not dbt_args or dbt_args[0].startswith("-")


def transform(settings: Settings, *dbt_args: str, publish: bool = True) -> str:
    """``moviepipe transform -- ARGS``; a build is then published as gold (``publish=False``:
    it stays in gold_build)."""
    proc = moviepipe(settings, "transform", "--", *dbt_args)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    if publish and is_build(dbt_args):
        pub = moviepipe(settings, "publish")
        assert pub.returncode == 0, pub.stdout[-3000:] + pub.stderr[-3000:]
    return proc.stdout


def query(settings: Settings, sql: str, role: str = "admin") -> list[dict[str, Any]]:
    with db.connect(settings, role) as conn, conn.cursor() as cur:  # type: ignore[arg-type]
        cur.execute(sql)  # type: ignore[arg-type]
        names = [d.name for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def relation_oid(settings: Settings, relation: str) -> int:
    return query(settings, f"select '{relation}'::regclass::oid as oid")[0]["oid"]


@contextmanager
def fresh_database(stack: Settings, label: str) -> Iterator[Settings]:
    """Settings for a new bootstrapped database, dropped (with dbt's target dir) afterwards."""
    name = f"mp_test_{label}_{uuid.uuid4().hex[:8]}"
    settings = stack.model_copy(update={"pgdatabase": name})
    db.bootstrap(settings, name)
    try:
        yield settings
    finally:
        db.drop_database(stack, name)
        shutil.rmtree(default_target_path(settings).parent, ignore_errors=True)


@pytest.fixture(scope="session")
def wh_settings(stack: Settings) -> Iterator[Settings]:
    with fresh_database(stack, "wh") as settings:
        yield settings


@pytest.fixture(scope="session")
def built(wh_settings: Settings) -> dict[str, Any]:
    """Run 1: land the fixtures, `moviepipe transform`; everything observed is returned."""
    with db.connect(wh_settings, "loader") as conn:
        fixtures.land_run1(conn)
    out = transform(wh_settings)
    seen: dict[str, Any] = {"stdout": out}
    for table in KPI_TABLES:
        seen[table] = query(wh_settings, f"select * from gold.{table} order by 1")
    for table in (
        "dim_movie",
        "dim_session",
        "dim_user",
        "fact_user_event",
        "fact_user_event_fallback",
    ):
        seen[table] = query(wh_settings, f"select * from gold.{table}")
    seen["movies_curated"] = query(wh_settings, "select * from silver.movies_curated")
    seen["user_events"] = query(wh_settings, "select * from silver.user_events")
    seen["snapshot"] = query(wh_settings, "select * from snapshots.movie_metrics_snapshot")
    seen["user_events_oid"] = relation_oid(wh_settings, "silver.user_events")
    # Blue/green: the publish made the build gold, and the next build target is a third,
    # empty schema. Build it too (`dbt run`, same raw data) so the incremental run below
    # finds its own state there, as every build schema has in steady state.
    transform(wh_settings, "run")
    seen["fact_oid"] = relation_oid(wh_settings, "gold_build.fact_user_event")
    return seen


@pytest.fixture(scope="session")
def rebuilt(built: dict[str, Any], wh_settings: Settings) -> dict[str, Any]:
    """Run 2: a late event that bridges two sessions, refreshed with `--selector events`;
    run 3: a newer TMDB payload, full build (the snapshot takes a new version)."""
    with db.connect(wh_settings, "loader") as conn:
        fixtures.land_events(conn, "raw.user_events", [fixtures.LATE_EVENT], run_id="run2")
    events_out = transform(wh_settings, "--selector", "events")
    seen: dict[str, Any] = {
        "events_stdout": events_out,
        "fact_user_event": query(wh_settings, "select * from gold.fact_user_event"),
        "dim_session": query(wh_settings, "select * from gold.dim_session"),
        "fact_oid": relation_oid(wh_settings, "gold.fact_user_event"),
        "user_events_oid": relation_oid(wh_settings, "silver.user_events"),
    }
    alpha = {**fixtures.MOVIES[0], "popularity": 60.0, "vote_count": 1100}
    beta = {**fixtures.MOVIES[1], "overview": "A new synopsis: no metric changed."}
    with db.connect(wh_settings, "loader") as conn:
        fixtures.land_movies(conn, [alpha, beta], run_id="run3")
    transform(wh_settings)
    seen["snapshot"] = query(wh_settings, "select * from snapshots.movie_metrics_snapshot")
    seen["kpi_most_popular"] = query(wh_settings, "select * from gold.kpi_most_popular order by 1")
    return seen
