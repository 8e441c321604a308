"""The supervisor's rule (pure) and its readings against the real PostgreSQL and Kafka."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from moviepipe import db
from orchestration import supervisor
from orchestration.supervisor import decide, parse_flag
from tests.conftest import fresh_database


@pytest.mark.parametrize(
    ("age", "flag", "expected"),
    [
        (10.0, True, "none"),  # fresh heartbeat: Spark is landing
        (10.0, False, "none"),
        (900.0, False, "none"),  # stale, but the operator did not allow the fallback
        (900.0, True, "fallback"),
        (None, True, "fallback"),  # Spark never beat
        (None, False, "none"),
        (600.0, True, "none"),  # the threshold itself is not stale
    ],
)
def test_fallback_runs_only_when_stale_and_allowed(age, flag, expected):
    assert decide(heartbeat_age_s=age, stale_after_s=600, use_pandas_fallback=flag) == expected


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("True", True), ("1", True), ("false", False), ("", False)]
)
def test_variable_text_is_read_as_a_flag(text, value):
    assert parse_flag(text) is value


@pytest.fixture(scope="module")
def sup_settings(stack, topic_settings):
    # A database of its own: the test starts from "Spark never beat", which any landing
    # test run before it in the session would falsify in the shared test database.
    with fresh_database(stack, "mp_sup") as settings:
        yield settings.model_copy(
            update={"moviepipe_topic_prefix": topic_settings.moviepipe_topic_prefix}
        )


def test_readings_see_the_heartbeat_and_the_backup_lag(sup_settings):
    assert supervisor.spark_heartbeat(sup_settings) == (None, None)
    with db.connect(sup_settings, "admin", autocommit=True) as conn:
        conn.execute(
            "insert into ops.stream_heartbeat (sink, lag, beat_at)"
            " values (%s, 7, now() - interval '20 minutes')",
            (supervisor.SPARK_SINK,),
        )
    before = supervisor.group_lag(sup_settings, supervisor.BACKUP_GROUP)
    producer = Producer({"bootstrap.servers": sup_settings.kafka_bootstrap_servers})
    for i in range(5):
        producer.produce(sup_settings.topics[0], value=b"{}", key=str(i).encode())
    producer.flush(10)
    reading = supervisor.read(sup_settings)
    assert reading.heartbeat_age_s == pytest.approx(1200, abs=60)
    assert reading.landing_lag == 7
    assert reading.backup_lag == before + 5
    stale = sup_settings.tunables.orchestration.heartbeat_stale_after_s
    assert decide(heartbeat_age_s=reading.heartbeat_age_s, stale_after_s=stale,
                  use_pandas_fallback=True) == "fallback"  # fmt: skip
    supervisor.record_lag(sup_settings, "manual__test", reading, "fallback")
    with db.connect(sup_settings, "admin", autocommit=True) as conn:
        lag = conn.execute(
            "select lag from ops.stream_heartbeat where sink = 'supervisor.backup'"
            " order by beat_at desc limit 1"
        ).fetchone()[0]
        summary = conn.execute(
            "select summary from ops.run_log where run_id = 'manual__test:supervisor'"
        ).fetchone()[0]
    assert lag == before + 5
    assert summary["action"] == "fallback" and summary["backup_lag"] == before + 5
