"""The Spark landing's one transform: a micro-batch of Kafka records, classified.

Source, transform, sink: :mod:`streaming.land` reads the topics with Spark's
Kafka source, :func:`classify_batch` (here) judges each micro-batch against the
event contract, and :mod:`streaming.sink` writes valid events and dead letters
in one PostgreSQL transaction.

Two paths, one verdict. The fast path (:mod:`streaming.spark_fast`) proves
canonical messages valid with one regex and one typed parse; the exact path
(:mod:`streaming.spark_exact`) runs the contract's ordered checks on whatever
the fast path could not prove, and names the reason exactly as
:func:`moviepipe.events.check_event` does (``tests/streaming`` proves they agree).

Usage::

    table = classify_batch(batch_df, rules, topic_prefix="")   # Arrow, one row a record
    df = spark_classify(kafka_df, rules)                        # one pass, as a DataFrame
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from moviepipe.events import VALID_COLUMNS
from moviepipe.rules import Rules
from streaming.spark_columns import KAFKA_SCHEMA, text
from streaming.spark_exact import exact_path
from streaming.spark_fast import fast_stages, fast_values


def _kafka_coordinates() -> list[Column]:
    return [
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
    ]


def _build(rules: Rules, now: datetime | None, topic_prefix: str) -> dict[str, list]:
    fast, exact = F.col("_fast"), F.col("_check").isNotNull()
    exact_stages, exact_values = exact_path(rules, now, topic_prefix)
    fast_vals = fast_values()
    prepare = [
        [F.col("*"), F.is_valid_utf8(text()).alias("_utf8")],
        *fast_stages(rules, now, topic_prefix),
    ]
    both = [
        F.when(fast, fast_vals[name]).otherwise(exact_values[name]).alias(name)
        for name in fast_vals
    ]
    one_pass = [
        *both,
        *_kafka_coordinates(),
        # the original bytes only where they are kept: half the data to collect
        F.when(exact, F.col("key")).alias("raw_key"),
        F.when(exact, F.col("value")).alias("raw_value"),
        exact_values["reason"].alias("reason"),
        exact_values["reason_detail"].alias("reason_detail"),
    ]
    # The fast path alone: its values are meaningful only where _fast is true; the
    # other records keep their Kafka columns for the exact path.
    fast_only = [
        *[c.alias(name) for name, c in fast_vals.items()],
        *_kafka_coordinates(),
        F.when(~fast, F.col("key")).alias("_key"),
        F.when(~fast, F.col("value")).alias("_value"),
        fast.alias("_fast"),
    ]
    return {
        "prepare": prepare,
        "classify": [*prepare, *exact_stages, one_pass],
        "fast_only": [*prepare, fast_only],
    }


_CACHE: dict[tuple, dict[str, list]] = {}


def stages(rules: Rules, now: datetime | None, topic_prefix: str) -> dict[str, list[list[Column]]]:
    """The projections of each plan, built once per (rules, now, prefix).

    Building these few hundred column expressions through py4j takes a noticeable
    part of a small micro-batch, and Columns are not bound to a DataFrame: reuse them.
    ``prepare`` sets ``_fast``; ``classify`` is :func:`spark_classify`; ``fast_only``
    is the first job of :func:`classify_batch`.
    """
    key = (id(rules), now, topic_prefix)
    if key not in _CACHE:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = _build(rules, now, topic_prefix)
    return _CACHE[key]


def _run(df: DataFrame, projections: list[list[Column]]) -> DataFrame:
    for projection in projections:
        df = df.select(*projection)
    return df


def spark_classify(
    df_kafka: DataFrame, rules: Rules, now: datetime | None = None, topic_prefix: str = ""
) -> DataFrame:
    """Every record with its typed envelope, ``reason`` (null when valid) and ``reason_detail``.

    ``df_kafka`` has the Kafka source's columns (:data:`KAFKA_SCHEMA`). The
    future-timestamp check measures from each record's Kafka ``timestamp`` (``now``
    only where it is null). ``topic_prefix`` is the test prefix of topic names.
    """
    return _run(df_kafka, stages(rules, now, topic_prefix)["classify"])


def classify_batch(
    df_kafka: DataFrame, rules: Rules, now: datetime | None = None, topic_prefix: str = ""
) -> pa.Table:
    """A micro-batch classified, collected as Arrow: the columns of :func:`spark_classify`.

    Two Spark jobs instead of one: the fast path over every record, then the exact
    checks over only the records it could not prove valid (usually none, so the
    exact path costs neither its per-record work nor, most batches, its code generation).
    """
    table = _run(df_kafka, stages(rules, now, topic_prefix)["fast_only"]).toArrow()
    fast = table.column("_fast")
    done = table.filter(fast).select(list(VALID_COLUMNS))
    n = done.num_rows
    done = (
        done.append_column("raw_key", pa.nulls(n, pa.binary()))
        .append_column("raw_value", pa.nulls(n, pa.binary()))
        .append_column("reason", pa.nulls(n, pa.string()))
        .append_column("reason_detail", pa.nulls(n, pa.string()))
    )
    rest = table.filter(pc.invert(fast))
    if rest.num_rows == 0:
        return done
    records = rest.select(
        ["_key", "_value", "kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp"]
    ).rename_columns(["key", "value", "topic", "partition", "offset", "timestamp"])
    exact = spark_classify(
        df_kafka.sparkSession.createDataFrame(records, KAFKA_SCHEMA), rules, now, topic_prefix
    ).toArrow()
    return pa.concat_tables([done.cast(exact.schema), exact])
