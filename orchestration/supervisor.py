"""The streaming supervisor's decision and readings: Spark heartbeat age, landing lag,
the MongoDB backup consumer's lag.

The decision is a pure function, so its rule is tested without Airflow::

    from orchestration.supervisor import decide
    decide(heartbeat_age_s=900, stale_after_s=600, use_pandas_fallback=True)   # "fallback"

The readings take settings and open their own connections (called inside tasks only).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from moviepipe.config import Settings

SPARK_SINK = "spark.user_events"
BACKUP_GROUP = "moviepipe-backup"
Action = Literal["fallback", "none"]


def decide(
    *, heartbeat_age_s: float | None, stale_after_s: float, use_pandas_fallback: bool
) -> Action:
    """Run the pandas fallback only when Spark's heartbeat is stale (or was never seen)
    and the operator allowed it with the Variable ``use_pandas_fallback``."""
    stale = heartbeat_age_s is None or heartbeat_age_s > stale_after_s
    return "fallback" if stale and use_pandas_fallback else "none"


def parse_flag(value: object) -> bool:
    """An Airflow Variable's text as a boolean: true/1/yes/on, anything else false."""
    return str(value).strip().lower() in {"true", "1", "yes", "on"}


@dataclass(frozen=True)
class Reading:
    heartbeat_age_s: float | None
    landing_lag: int | None
    backup_lag: int | None

    def as_dict(self) -> dict:
        return asdict(self)


def spark_heartbeat(settings: Settings) -> tuple[float | None, int | None]:
    """Seconds since Spark's last heartbeat and the lag it reported (None, None if never)."""
    from moviepipe import db

    with db.connect(settings, "admin", autocommit=True) as conn:
        row = conn.execute(
            "select extract(epoch from now() - beat_at)::float8, lag from ops.stream_heartbeat"
            " where sink = %s order by beat_at desc limit 1",
            (SPARK_SINK,),
        ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def group_lag(settings: Settings, group: str) -> int:
    """Messages on the event topics that consumer ``group`` has not committed yet."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import AdminClient

    from streaming.kafka_io import end_offsets

    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap_servers})
    ends = end_offsets(admin, settings.topics)
    request = [
        ConsumerGroupTopicPartitions(settings.topic(group), [TopicPartition(t, p) for t, p in ends])
    ]
    result = admin.list_consumer_group_offsets(request)[settings.topic(group)].result()
    committed = {(tp.topic, tp.partition): max(tp.offset, 0) for tp in result.topic_partitions}
    return sum(end - committed.get(key, 0) for key, end in ends.items())


def read(settings: Settings) -> Reading:
    age, lag = spark_heartbeat(settings)
    return Reading(age, lag, group_lag(settings, BACKUP_GROUP))


def record_lag(settings: Settings, run_id: str, reading: Reading, action: Action) -> None:
    """One heartbeat row per supervisor run (sink ``supervisor``), lag = backup lag, and the
    reading in ops.run_log."""
    from moviepipe import db, runlog

    with (
        db.connect(settings, "admin", autocommit=True) as conn,
        runlog.run(conn, f"{run_id}:supervisor", "supervisor") as run,
    ):
        conn.execute(
            "insert into ops.stream_heartbeat (sink, lag) values (%s, %s)",
            ("supervisor.backup", reading.backup_lag),
        )
        run.summary = {**reading.as_dict(), "action": action}
