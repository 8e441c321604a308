"""Spark: a batch query reads a Kafka topic through the connector and writes PostgreSQL via JDBC;
Spark logs to its file under .local/log and only its errors to the console."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import pytest
from confluent_kafka import Producer

from moviepipe import db
from moviepipe.config import load_settings
from moviepipe.spark import (
    LOG_FILE_PROPERTY,
    build_spark_session,
    log_config_path,
    spark_conf,
    spark_log_path,
)

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


PROBE = """
import sys
from moviepipe.config import load_settings
from moviepipe.spark import (
    LOG_FILE_PROPERTY,
    build_spark_session,
    log_config_path,
    spark_conf,
    spark_log_path,
)

spark = build_spark_session(load_settings(), sys.argv[1])
print(spark.range(1000).selectExpr("sum(id)").first()[0])
jvm_log = spark._jvm.org.apache.logging.log4j.LogManager.getLogger("moviepipe.probe")
jvm_log.warn("probe warning")
jvm_log.error("probe error")
spark.stop()
"""


def test_spark_logs_to_its_file_and_only_errors_to_the_console():
    app = f"test-spark-log-{uuid.uuid4().hex[:8]}"
    log_file = spark_log_path(load_settings(), app)
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, app],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        logged = log_file.read_text(encoding="utf-8")
    finally:
        log_file.unlink(missing_ok=True)
    assert done.stdout.strip() == "499500"
    # The file has Spark's INFO lines, the JVM's startup warnings and the probe's.
    assert re.search(r" INFO .*SparkContext: Running Spark version", logged)
    assert re.search(r" WARN .*SparkConf: Note that spark.local.dir will be overridden", logged)
    assert re.search(r" WARN \S+ probe: probe warning", logged)
    # The console has the error, and nothing below it.
    assert re.search(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d ERROR probe: probe error$", done.stderr, re.M)
    assert not re.search(r"\b(WARN|INFO)\b", done.stderr), done.stderr
    assert "Setting default log level" not in done.stderr
    assert "[Stage " not in done.stderr  # no progress bar


def test_log_file_per_application():
    settings = load_settings()
    path = spark_log_path(settings, "moviepipe land/2")
    assert path == settings.log_dir / "spark-moviepipe-land-2.log"
    options = spark_conf(settings, "moviepipe land/2", [])["spark.driver.extraJavaOptions"]
    assert f"-Dlog4j2.configurationFile={log_config_path(settings).as_uri()}" in options.split()
    assert f"-D{LOG_FILE_PROPERTY}={path}" in options.split()
