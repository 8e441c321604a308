"""Pure pandas functions: parse and validate a chunk of Kafka records (the fallback's path).

Each record goes through :func:`moviepipe.events.check_event`, the reference
implementation of the contract, so the fallback can never disagree with the
published rules; the frame-level work (splitting, typing the columns of
raw.user_events / raw.user_events_rejected) is vectorised. Callers pass chunks
of bounded size (``streaming.fallback.chunk_size``).

Usage::

    valid, rejected = pandas_parse_validate(records, rules, topic_prefix="")
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd

from moviepipe.events import REJECTED_COLUMNS, VALID_COLUMNS, check_event
from moviepipe.rules import Rules

KAFKA_COLUMNS = ("key", "value", "topic", "partition", "offset", "timestamp")


def pandas_parse_validate(
    records: pd.DataFrame, rules: Rules, now: datetime | None = None, topic_prefix: str = ""
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(valid_df, rejected_df)`` with the columns of raw.user_events / raw.user_events_rejected.

    ``records`` has the columns ``key, value, topic, partition, offset, timestamp``
    (value as bytes; timestamp as a tz-aware datetime or null). Events more than
    the allowed skew after their record's Kafka timestamp (``now`` when null) are
    ``future_timestamp``.
    """
    now = now or datetime.now(UTC)
    # The clock of the future-timestamp check is the record's Kafka timestamp (stable on replay).
    stamps = pd.to_datetime(records["timestamp"], utc=True)
    clocks = [now if pd.isna(ts) else ts for ts in stamps.tolist()]
    verdicts = [
        check_event(value, now=clock, rules=rules, topic=topic, topic_prefix=topic_prefix)
        for value, topic, clock in zip(records["value"], records["topic"], clocks, strict=True)
    ]
    ok = pd.Series([v.reason is None for v in verdicts], index=records.index, dtype=bool)
    coords = pd.DataFrame(
        {
            "kafka_topic": records["topic"].astype("string"),
            "kafka_partition": records["partition"].astype("int32"),
            "kafka_offset": records["offset"].astype("int64"),
            "kafka_timestamp": pd.to_datetime(records["timestamp"], utc=True),
        },
        index=records.index,
    )
    events = [v.event for v in verdicts if v.event is not None]
    valid = pd.DataFrame(
        {
            "event_id": pd.Series([e["event_id"] for e in events], dtype="string"),
            "event_type": pd.Series([e["event_type"] for e in events], dtype="string"),
            "event_ts": pd.to_datetime([e["event_ts"] for e in events], utc=True),
            "user_id": pd.Series([e["user_id"] for e in events], dtype="string"),
            "session_id": pd.Series([e["session_id"] for e in events], dtype="string"),
            "movie_id": pd.Series([e["movie_id"] for e in events], dtype="Int64"),
            "payload": pd.Series(
                [json.dumps(e["payload"], ensure_ascii=False) for e in events], dtype="string"
            ),
        }
    )
    valid_coords = coords[ok].reset_index(drop=True)
    valid = pd.concat([valid, valid_coords], axis=1)[list(VALID_COLUMNS)]
    bad = ~ok
    rejected = coords[bad].assign(
        raw_key=records.loc[bad, "key"],
        raw_value=records.loc[bad, "value"],
        reason=pd.Series([v.reason for v in verdicts], index=records.index, dtype="string")[bad],
        reason_detail=pd.Series([v.detail for v in verdicts], index=records.index, dtype="string")[
            bad
        ],
    )
    return valid, rejected.reset_index(drop=True)[list(REJECTED_COLUMNS)]
