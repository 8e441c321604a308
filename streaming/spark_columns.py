"""Column expressions both Spark paths share: the Kafka columns, number tests, topic, clock.

Usage::

    from streaming.spark_columns import KAFKA_SCHEMA, expected_topic, latest_allowed_micros
    df = spark.createDataFrame(rows, KAFKA_SCHEMA)
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import Column
from pyspark.sql import functions as F

from moviepipe.rules import Rules

# The Kafka source's columns, and an explicit schema for tests that build input by hand.
KAFKA_SCHEMA = (
    "key binary, value binary, topic string, partition int, offset bigint, timestamp timestamp"
)
# schema_of_variant's names of the integer types parse_json gives.
INT_TYPES = ("BIGINT", "INT", "SMALLINT", "TINYINT")


def text() -> Column:
    """The Kafka value as a string (invalid UTF-8 is checked apart)."""
    return F.col("value").cast("string")


def is_number(variant_type: Column) -> Column:
    """A ``schema_of_variant`` type that is a JSON number."""
    return variant_type.isin(*INT_TYPES, "DOUBLE", "FLOAT") | variant_type.startswith("DECIMAL")


def finite(num: Column) -> Column:
    # 1e400 parses to infinity; Python's json does the same and the contract refuses both.
    return ~F.isnan(num) & (F.abs(num) < F.lit(float("inf")))


def expected_topic(etype: Column, rules: Rules, topic_prefix: str) -> Column:
    """The topic an event of type ``etype`` must arrive on."""
    pairs = rules.events.topic_by_event_type.items()
    return F.create_map(*[x for t, n in pairs for x in (F.lit(t), F.lit(topic_prefix + n))])[etype]


def latest_allowed_micros(rules: Rules, now: datetime | None) -> Column:
    """The latest acceptable event_ts: the record's Kafka timestamp plus the allowed skew.

    The clock is the record's Kafka timestamp, so a replay gives the same verdict; a
    per-batch literal would also change the generated code and force a recompile.
    ``now`` (naive means UTC) stands in only where the timestamp is null.
    """
    clock = F.col("timestamp")
    if now is not None:
        clock = F.coalesce(clock, F.lit(now if now.tzinfo else now.replace(tzinfo=UTC)))
    return F.unix_micros(clock) + rules.events.max_future_skew_seconds * 1_000_000
