"""Faults during landing: PostgreSQL and the Kafka broker restart in the middle of a run.

On a private stack (a PostgreSQL cluster and a Kafka broker of this module's own, on
free ports under a home of their own: the shared servers are never restarted):
``moviepipe stream land --available-now`` lands N events in small batches; after its
first committed batch the server is stopped and started again. The run either recovers
(exit 0, logged succeeded) or fails clearly (non-zero, logged failed with the cause);
a re-run then leaves every event landed exactly once.
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from moviepipe import db
from moviepipe.config import Settings
from moviepipe.services import kafka, postgres
from streaming.land import SINK
from streaming.producer import produce
from streaming.sources import simulate_events
from tests.streaming.conftest import fresh_topics
from tests.streaming.kills import land_cmd, land_env, land_once, start_after_batch

pytestmark = [pytest.mark.integration, pytest.mark.spark]

N = 2400


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_pair() -> int:
    """An even port p with p and p + 1 free (Kafka's controller listens on p + 1).

    Below Linux's ephemeral range (32768 and up by default): a broker binds seconds after
    this choice, and a port the kernel hands out to an outgoing connection meanwhile once
    made the private broker fail to start. Even ports keep two pairs from overlapping.
    """
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32000, 2)
        if _bindable(port) and _bindable(port + 1):
            return port
    raise RuntimeError("no two free consecutive ports")


@pytest.fixture(scope="module")
def private(stack: Settings):
    # Under the project's .local: its ancestors are already traversable by the postgres user.
    home = stack.home / "private" / f"faults_{uuid.uuid4().hex[:6]}"
    home.mkdir(parents=True)
    (home / "jars").symlink_to(stack.home / "jars")  # the broker's and Spark's jars
    shutil.copy(stack.secrets_file, home / "secrets.env")  # the same role passwords
    settings = stack.model_copy(
        update={
            "moviepipe_home": home,
            "pgport": _free_port_pair(),
            "kafka_bootstrap_servers": f"127.0.0.1:{_free_port_pair()}",
            "pgdatabase": "moviepipe_faults",
        }
    )
    try:
        postgres.up(settings)
        db.bootstrap(settings)
        kafka.up(settings)
        yield settings
    finally:
        kafka.down(settings)
        postgres.down(settings)
        shutil.rmtree(home, ignore_errors=True)


def _env(settings: Settings) -> dict[str, str]:
    return land_env(
        settings,
        MOVIEPIPE_HOME=str(settings.home),
        PGPORT=str(settings.pgport),
        KAFKA_BOOTSTRAP_SERVERS=settings.kafka_bootstrap_servers,
    )


def _restart_mid_run(private: Settings, rules, tmp_path, restart: Callable[[], None], seed: int):
    """Land N events, restarting a server after the first batch; then re-run. Returns facts."""
    settings = fresh_topics(private)
    events = list(simulate_events(N, seed=seed, start=datetime(2024, 5, 4, tzinfo=UTC)))
    assert produce(settings, rules, events)["delivered"] == N
    env, log = _env(settings), tmp_path / "land.log"
    cmd = land_cmd(tmp_path / "ckpt", max_offsets=300)
    with open(log, "ab") as out:
        proc = start_after_batch(settings, env, cmd, out)
        assert proc.poll() is None, log.read_text()[-3000:]  # still landing: the fault is mid-run
        restart()
        code = proc.wait(timeout=240)
    rerun = land_once(env, cmd, log)
    assert rerun == 0, log.read_text()[-3000:]
    prefix = settings.moviepipe_topic_prefix + "%"
    # This checkpoint's batches only: the database holds the other scenario's too.
    query_id = json.loads((tmp_path / "ckpt" / "metadata").read_text())["id"]
    with db.connect(settings, "loader") as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "select event_id::text from raw.user_events where kafka_topic like %s", (prefix,)
            )
        ]
        runs = conn.execute(
            "select status, error from ops.run_log where step = 'stream land'"
            " and args->>'checkpoint' = %s order by started_at",
            (str(tmp_path / "ckpt"),),
        ).fetchall()
        batches = conn.execute(
            "select count(*), count(distinct batch_id), coalesce(sum(rows_in), 0)::int"
            " from ops.stream_batches where sink = %s",
            (f"{SINK}@{query_id}",),
        ).fetchone()
    return {"code": code, "log": log.read_text(), "ids": ids, "events": events,
            "runs": runs, "batches": batches}  # fmt: skip


def _assert_clear_or_recovered(facts: dict, cause: str) -> None:
    disturbed, last = facts["runs"][0], facts["runs"][-1]
    print(f"disturbed run: exit {facts['code']}, {disturbed[0]}: {(disturbed[1] or '')[:300]}")
    if facts["code"] == 0:
        assert disturbed[0] == "succeeded"  # it recovered
    else:
        # It failed clearly: logged failed with the cause, and the CLI said so.
        assert disturbed[0] == "failed" and disturbed[1], facts["runs"]
        assert cause.lower() in (disturbed[1] + facts["log"]).lower(), disturbed[1]
    assert last[0] == "succeeded"
    # Every event exactly once, each batch committed once.
    assert len(facts["ids"]) == N
    assert set(facts["ids"]) == {e["event_id"] for e in facts["events"]}
    count, distinct, rows_in = facts["batches"]
    assert count == distinct and rows_in == N


def test_postgres_restart_mid_landing(private, rules, tmp_path):
    def restart() -> None:
        postgres.down(private)
        postgres.up(private)

    facts = _restart_mid_run(private, rules, tmp_path, restart, seed=31)
    _assert_clear_or_recovered(facts, cause="connection")


def test_kafka_restart_mid_landing(private, rules, tmp_path):
    def restart() -> None:
        kafka.down(private)
        kafka.up(private)

    facts = _restart_mid_run(private, rules, tmp_path, restart, seed=32)
    _assert_clear_or_recovered(facts, cause="kafka")
