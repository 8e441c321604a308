"""The engines' validation as DataFrames, for tests: ``(valid, rejected)`` frames to compare.

Production code calls :func:`streaming.pandas_transforms.arrow_parse_validate` (the
fallback) and runs it in Spark through :func:`streaming.transforms.classify` (the
landing); these wrappers give both the same shape, with the columns of raw.user_events and
raw.user_events_rejected, so a test can compare them with each other and with
the reference.

Usage::

    valid, rejected = pandas_parse_validate(records, rules, now=NOW, topic_prefix="p_")
    valid, rejected = spark_parse_validate(kafka_df, rules, now=NOW, topic_prefix="p_")
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from moviepipe.events import REJECTED_COLUMNS, VALID_COLUMNS, details
from moviepipe.rules import Rules
from streaming.pandas_transforms import arrow_parse_validate

# The engines word every detail alike, except what their JSON and UTF-8 decoders say.
DECODER_WORDS = (details.NOT_JSON % "", details.NOT_UTF8 % "")


def same_detail(got: str | None, reference: str) -> bool:
    """``got`` is the reference's detail, or starts as it does where a decoder words it."""
    prefix = next((p for p in DECODER_WORDS if reference.startswith(p)), None)
    return got is not None and (got.startswith(prefix) if prefix else got == reference)


def pandas_parse_validate(
    records: pd.DataFrame, rules: Rules, now: datetime | None = None, topic_prefix: str = ""
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fallback's verdict as pandas frames (string and nullable integer dtypes).

    ``records`` has the columns ``key, value, topic, partition, offset, timestamp``
    (value as bytes; timestamp as a tz-aware datetime or null).
    """
    valid, rejected = arrow_parse_validate(records, rules, now, topic_prefix)
    frame = valid.to_pandas()
    for name in ("event_id", "event_type", "user_id", "session_id", "payload", "kafka_topic"):
        frame[name] = frame[name].astype("string")
    frame["movie_id"] = frame["movie_id"].astype("Int64")
    return frame[list(VALID_COLUMNS)], rejected


def spark_parse_validate(df_kafka, rules: Rules, now: datetime | None = None, topic_prefix=""):
    """The Spark verdict in one pass, split into valid and rejected DataFrames."""
    from pyspark.sql import functions as F

    from streaming.transforms import classify

    classified = classify(df_kafka, rules, now, topic_prefix)
    valid = classified.where(F.col("reason").isNull()).select(*VALID_COLUMNS)
    rejected = classified.where(F.col("reason").isNotNull()).select(*REJECTED_COLUMNS)
    return valid, rejected
