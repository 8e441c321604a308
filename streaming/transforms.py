"""The Spark landing's one transform: Kafka records in, classified records out.

Spark runs the same validator as the pandas fallback:
:func:`streaming.pandas_transforms.arrow_parse_validate` (the vectorised Arrow
screen for ordinary records, :func:`moviepipe.events.check_event`, the
reference, for the rest) on each Arrow batch of a partition, through
``mapInArrow``. So there is one implementation of the contract, and the
reasons are the reference's own.

Usage::

    df = classify(kafka_df, rules, topic_prefix="")      # a DataFrame of CLASSIFIED_SCHEMA
    for valid, rejected in validate_batches(arrow_batches, rules):   # inside a task
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa

from moviepipe.events import REJECTED_COLUMNS, VALID_COLUMNS
from moviepipe.rules import Rules
from streaming.pandas_transforms import VALID_SCHEMA, arrow_parse_validate, kafka_records

# The Kafka source's columns, and an explicit schema for tests that build input by hand.
KAFKA_SCHEMA = (
    "key binary, value binary, topic string, partition int, offset bigint, timestamp timestamp"
)
_EXTRA = [("raw_key", pa.binary()), ("raw_value", pa.binary()),
          ("reason", pa.string()), ("reason_detail", pa.string())]  # fmt: skip
# One row a record: the typed envelope of a valid event, the original bytes and the
# reason (null when valid) of a dead letter; the Kafka coordinates of both.
CLASSIFIED_ARROW = pa.schema([*VALID_SCHEMA, *_EXTRA])
CLASSIFIED_SCHEMA = (
    "event_id string, event_type string, event_ts timestamp, user_id string,"
    " session_id string, movie_id bigint, payload string, kafka_topic string,"
    " kafka_partition int, kafka_offset bigint, kafka_timestamp timestamp,"
    " raw_key binary, raw_value binary, reason string, reason_detail string"
)


def validate_batches(
    batches: Iterator[pa.RecordBatch],
    rules: Rules,
    now: datetime | None = None,
    topic_prefix: str = "",
) -> Iterator[tuple[pa.Table, pd.DataFrame]]:
    """``(valid, rejected)`` per non-empty Arrow batch of Kafka rows (a task's partition)."""
    for batch in batches:
        if batch.num_rows:
            yield arrow_parse_validate(kafka_records(batch), rules, now, topic_prefix)


def classified(valid: pa.Table, rejected: pd.DataFrame) -> pa.Table:
    """Valid and rejected rows in one table of :data:`CLASSIFIED_ARROW`."""
    n, m = valid.num_rows, len(rejected)
    good = {name: valid.column(name) for name in VALID_COLUMNS}
    bad = {name: pa.array(rejected[name], CLASSIFIED_ARROW.field(name).type)
           for name in REJECTED_COLUMNS}  # fmt: skip
    columns = [
        pa.concat_arrays([
            *good.get(f.name, pa.chunked_array([pa.nulls(n, f.type)])).cast(f.type).chunks,
            bad[f.name] if f.name in bad else pa.nulls(m, f.type),
        ])
        for f in CLASSIFIED_ARROW
    ]  # fmt: skip
    return pa.Table.from_arrays(columns, schema=CLASSIFIED_ARROW)


@dataclass(frozen=True)
class Classify:
    """The ``mapInArrow`` function of :func:`classify` (picklable: rules and clock only)."""

    rules: Rules
    now: datetime | None = None
    topic_prefix: str = ""

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for valid, rejected in validate_batches(batches, self.rules, self.now, self.topic_prefix):
            yield from classified(valid, rejected).to_batches()


def classify(df_kafka, rules: Rules, now: datetime | None = None, topic_prefix: str = ""):
    """Every record of ``df_kafka`` (:data:`KAFKA_SCHEMA`) with its verdict.

    The future-timestamp check measures from each record's Kafka ``timestamp`` (``now``
    only where it is null); ``topic_prefix`` is the test prefix of topic names.
    """
    return df_kafka.mapInArrow(Classify(rules, now, topic_prefix), CLASSIFIED_SCHEMA)
