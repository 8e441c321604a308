"""End to end: ``tmdb_daily`` under ``dag.test()`` on the local stack, a database of its own,
a MongoDB database of its own and the TMDB-shaped local server announcing changed movies.

On top of the quality tests' gate-sized sample, one DAG run: the changed movies land in
raw, every cosmos dbt task succeeds, the gate publishes gold with them, and the publish
task emits the gold Asset event.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
import yaml

from extract.tmdb.dev.fakeserver import running_server
from extract.tmdb.dev.sample import SAMPLE_PATH, load_docs
from moviepipe import db
from moviepipe.config import PROJECT_DIR
from moviepipe.services import mongo
from orchestration.airflow_env import airflow_env, ensure_db
from orchestration.dagtest import run_in_child
from orchestration.defaults import GOLD_ASSET
from tests.quality.test_gate import sample_movies
from tests.warehouse import fixtures
from tests.warehouse.conftest import fresh_database, query

API_KEY = "dag-test-key"
CHANGED = 25  # movies the server lists as changed today
LOG = PROJECT_DIR / ".local" / "log" / "test-tmdb-daily-dagtest.log"


def _config_with_mongo_db(path: Path, mongo_db: str) -> Path:
    """The project's tunables with a MongoDB database of this test's own."""
    tunables = yaml.safe_load((PROJECT_DIR / "config" / "moviepipe.yaml").read_text("utf-8"))
    tunables["mongo"]["database"] = mongo_db
    path.write_text(yaml.safe_dump(tunables), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def daily_run(stack, tmp_path_factory):
    """One ``tmdb_daily`` run; its JSON summary, the settings and the changed ids."""
    home = tmp_path_factory.mktemp("dag_home")
    mongo_db = f"mp_test_{uuid.uuid4().hex[:8]}"
    docs = load_docs(SAMPLE_PATH)
    released = sorted(i for i, d in docs.items() if d.get("status") == "Released")
    changed = released[:CHANGED]
    with fresh_database(stack, "dag") as settings:
        settings = settings.model_copy(update={"moviepipe_home": home})
        # Movies and events already landed, sized for the gates (the quality tests'
        # sample: every KPI mart full); the DAG run adds the changed movies.
        with db.connect(settings, "loader") as conn:
            fixtures.land_movies(conn, sample_movies(), run_id="before")
            fixtures.land_events(conn, "raw.user_events", fixtures.EVENTS_RUN1)
        env = airflow_env(settings)
        env["MOVIEPIPE_CONFIG"] = str(_config_with_mongo_db(home / "moviepipe.yaml", mongo_db))
        ensure_db(settings, env, serialize=False)  # dag.test() serializes tmdb_daily
        try:
            with running_server(docs, api_key=API_KEY, changes={date.today(): changed}) as url:
                env.update({"TMDB_BASE_URL": url, "TMDB_API_KEY": API_KEY})
                summary, output = run_in_child("tmdb_daily", env, timeout=1500)
            # Kept where pytest's rotation of temporary directories does not reach it.
            LOG.parent.mkdir(parents=True, exist_ok=True)
            LOG.write_text(output, encoding="utf-8")
            assert summary is not None, output[-3000:]
            lines = output.splitlines()
            summary["failures"] = [ln for ln in lines if "StepFailed:" in ln or "Error:" in ln]
            yield summary, settings, changed
        finally:
            with mongo.client(stack) as mc:
                mc.drop_database(mongo_db)


def test_every_task_succeeds_dbt_ones_included(daily_run):
    summary, _, _ = daily_run
    failed = {t: s for t, s in summary["tasks"].items() if s != "success"}
    assert failed == {}, (failed, summary["failures"][-10:], f"full log: {LOG}")
    assert summary["state"] == "success"
    dbt_tasks = [t for t in summary["tasks"] if t.startswith("dbt_build.")]
    assert "dbt_build.dbt_producer_watcher" in dbt_tasks
    assert {"dbt_build.stg_movies.run", "dbt_build.dim_movie.run"} <= set(dbt_tasks)


def test_the_changed_movies_land_and_reach_published_gold(daily_run):
    summary, settings, changed = daily_run
    landed = {r["movie_id"] for r in query(settings, "select movie_id from raw.tmdb_movies")}
    assert set(changed) <= landed
    in_gold = {r["movie_id"] for r in query(settings, "select movie_id from gold.dim_movie")}
    assert in_gold & set(changed)
    assert in_gold <= landed
    # The steps logged under the DAG run's id (moviepipe lineage RUN_ID).
    steps = query(
        settings,
        "select step from ops.run_log where pipeline_run_id = '{}'".format(summary["run_id"]),
    )
    assert {"extract tmdb", "extract mongo", "enrich"} <= {s["step"] for s in steps}


def test_only_the_publish_task_emits_the_gold_asset_event(daily_run):
    summary, _, _ = daily_run
    assert summary["asset_events"] == [{"uri": GOLD_ASSET.uri, "task_id": "gate_and_publish"}]
