"""Spark: a batch query reads a Kafka topic through the connector and writes PostgreSQL via JDBC."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Producer

from moviepipe import db
from moviepipe.spark import build_spark_session

pytestmark = [pytest.mark.integration, pytest.mark.spark]

N_MESSAGES = 250


def test_kafka_to_postgres_batch(pg_settings, topic_settings):
    topic = topic_settings.topic("user_click_log")
    run = uuid.uuid4().hex[:8]
    producer = Producer({"bootstrap.servers": topic_settings.kafka_bootstrap_servers})
    for i in range(N_MESSAGES):
        producer.produce(
            topic, key=f"u{i % 50}".encode(), value=f'{{"run": "{run}", "i": {i}}}'.encode()
        )
    assert producer.flush(30) == 0

    table = f"spark_probe_{run}"
    spark = build_spark_session(pg_settings, "test-spark-kafka-jdbc")
    try:
        frame = (
            spark.read.format("kafka")
            .option("kafka.bootstrap.servers", topic_settings.kafka_bootstrap_servers)
            .option("subscribe", topic)
            .option("startingOffsets", "earliest")
            .option("endingOffsets", "latest")
            .load()
            .selectExpr(
                "cast(key as string) as user_key",
                "cast(value as string) as body",
                "topic",
                "partition",
                "offset",
            )
            .where(f"body like '%{run}%'")
        )
        (
            frame.write.format("jdbc")
            .option("url", pg_settings.pg_jdbc_url())
            .option("dbtable", f"raw.{table}")
            .option("user", pg_settings.role_user("loader"))
            .option("password", pg_settings.role_password("loader"))
            .option("driver", "org.postgresql.Driver")
            .mode("overwrite")
            .save()
        )
    finally:
        spark.stop()

    with db.connect(pg_settings, "loader") as conn:
        count, partitions, keys = conn.execute(
            f"select count(*), count(distinct partition), count(distinct user_key) from raw.{table}"
        ).fetchone()
        conn.execute(f"drop table raw.{table}")
        conn.commit()
    assert count == N_MESSAGES
    assert partitions == 3  # fifty keys spread over all three partitions
    assert keys == 50
