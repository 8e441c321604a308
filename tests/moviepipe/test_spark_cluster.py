"""``moviepipe services up spark``: a standalone master and worker, and the landing run on it.

One cluster for the module (started and stopped through the CLI): status names its
URL and UI, ``/json/`` lists the alive worker, ``stream land --available-now`` with
``SPARK_MASTER`` set lands N events exactly once, also through SIGKILLs of the
driver, and the master lists the landing among its applications. ``down`` stops it.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import pytest

from moviepipe import db
from moviepipe.rules import load_rules
from moviepipe.services import spark_cluster
from moviepipe.services.process import managed_pid, port_open
from streaming.producer import produce
from streaming.sources import simulate_events
from tests.conftest import fresh_database
from tests.streaming.conftest import drop_topics, fresh_topics
from tests.streaming.kills import MOVIEPIPE, land_cmd, land_env, land_once, land_through_kills

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MOVIEPIPE), "services", *args], capture_output=True, text=True, timeout=180
    )


@pytest.fixture(scope="module")
def cluster(stack, topic_settings):
    result = _cli("up", "spark")
    assert result.returncode == 0, result.stdout + result.stderr
    # A database of its own: its heartbeats and batch claims must not reach the tests
    # that read ops.stream_heartbeat / ops.stream_batches of the shared test database.
    with fresh_database(stack, "mp_cluster") as settings:
        yield settings.model_copy(
            update={"moviepipe_topic_prefix": topic_settings.moviepipe_topic_prefix}
        )
    _cli("down", "spark")


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def _landed(settings) -> tuple[int, int]:
    with db.connect(settings, "loader") as conn:
        return conn.execute(
            "select count(*), count(distinct event_id) from raw.user_events"
            " where kafka_topic like %s",
            (settings.moviepipe_topic_prefix + "%",),
        ).fetchone()


def _scenario(settings, rules, n: int, seed: int):
    settings = fresh_topics(settings)
    events = list(simulate_events(n, seed=seed, start=datetime(2024, 5, 3, tzinfo=UTC)))
    assert produce(settings, rules, events)["delivered"] == n
    return settings, events


def test_status_shows_url_and_ui(cluster):
    out = _cli("status").stdout
    line = next(line for line in out.splitlines() if line.startswith("spark "))
    assert spark_cluster.master_url(cluster) in line and "healthy" in line
    assert f"UI {spark_cluster.ui_url(cluster)}" in line


def test_master_lists_the_alive_worker(cluster):
    state = spark_cluster.master_state(cluster)
    assert state is not None and state["aliveworkers"] >= 1
    worker = next(w for w in state["workers"] if w["state"] == "ALIVE")
    assert worker["host"] == "127.0.0.1"
    assert worker["cores"] == cluster.tunables.spark.cluster.worker_cores


def test_land_on_the_cluster_lands_exactly_n(cluster, rules, tmp_path):
    settings, _ = _scenario(cluster, rules, 3000, seed=21)
    env = land_env(settings, SPARK_MASTER=spark_cluster.master_url(settings))
    log = tmp_path / "land.log"
    code = land_once(env, land_cmd(tmp_path / "ckpt", max_offsets=100_000), log)
    assert code == 0, log.read_text()[-3000:]
    assert _landed(settings) == (3000, 3000)
    # It ran on the cluster, with the worker's executor, not in local mode.
    apps = spark_cluster.master_state(settings)["completedapps"]
    assert any(app["name"] == "moviepipe-land" for app in apps), apps
    drop_topics(settings)


def test_exactly_once_through_kills_on_the_cluster(cluster, rules, tmp_path):
    settings, events = _scenario(cluster, rules, 2400, seed=22)
    env = land_env(settings, SPARK_MASTER=spark_cluster.master_url(settings))
    log, cmd = tmp_path / "land.log", land_cmd(tmp_path / "ckpt")
    assert land_through_kills(settings, env, cmd, log, kills=1) == 1
    assert land_once(env, cmd, log) == 0, log.read_text()[-3000:]
    assert _landed(settings) == (2400, 2400)
    with db.connect(settings, "loader") as conn:
        ids = {r[0] for r in conn.execute(
            "select event_id::text from raw.user_events where kafka_topic like %s",
            (settings.moviepipe_topic_prefix + "%",),
        )}  # fmt: skip
    assert ids == {e["event_id"] for e in events}
    drop_topics(settings)


def test_down_stops_master_and_worker(cluster):
    result = _cli("down", "spark")
    assert result.returncode == 0 and "stopped" in result.stdout, result.stdout
    paths = spark_cluster._paths(cluster)
    assert managed_pid(paths["master_pid"]) is None
    assert managed_pid(paths["worker_pid"]) is None
    assert not port_open("127.0.0.1", cluster.tunables.spark.cluster.master_port)
    assert "spark " not in _cli("status").stdout
