"""Pure pandas functions: parse and validate a chunk of Kafka records (the fallback's path).

A vectorised screen (:mod:`streaming.arrow_screen`) proves the ordinary
records valid a whole chunk at a time; every other record goes through
:func:`moviepipe.events.check_event`, the reference implementation of the
contract, which names the reason, so the fallback can never disagree with the
published rules. Callers pass chunks of bounded size
(``streaming.fallback.chunk_size``).

Usage::

    valid_arrow, rejected = arrow_parse_validate(records, rules, topic_prefix="")
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from moviepipe.events import REJECTED_COLUMNS, check_event
from moviepipe.rules import Rules
from streaming.arrow_screen import screen
from streaming.canonical import canonicalize

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _clocks(clock_us: np.ndarray) -> list[datetime]:
    """One plain UTC datetime per record, converted once per distinct value.

    A chunk holds few distinct Kafka timestamps (milliseconds, set per produce batch), and
    converting each row through pyarrow/pytz cost about 2.5 us a message.
    """
    distinct, where = np.unique(clock_us, return_inverse=True)
    plain = np.empty(len(distinct), dtype=object)
    for i, us in enumerate(distinct.tolist()):
        plain[i] = _EPOCH + timedelta(microseconds=us)
    return plain[where.reshape(-1)].tolist()


VALID_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("event_ts", pa.timestamp("us", tz="UTC")),
        ("user_id", pa.string()),
        ("session_id", pa.string()),
        ("movie_id", pa.int64()),
        ("payload", pa.string()),
        ("kafka_topic", pa.string()),
        ("kafka_partition", pa.int32()),
        ("kafka_offset", pa.int64()),
        ("kafka_timestamp", pa.timestamp("us", tz="UTC")),
    ]
)


def _screen_any_form(
    values: list, topics: list[str], clock_us: np.ndarray, rules: Rules, topic_prefix: str
) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """The screen over the messages as sent, then over the canonical rewrite of the rest
    (:mod:`streaming.canonical`): another client's formatting costs a parse, not the
    reference's 24 us a message."""
    fast_at, fields = screen(values, topics, clock_us, rules, topic_prefix)
    rest = np.setdiff1d(np.arange(len(values)), fast_at)
    rewritten = canonicalize([values[i] for i in rest.tolist()], rules)
    ok = np.flatnonzero([v is not None for v in rewritten])
    if not len(ok):
        return fast_at, fields
    at = rest[ok]
    docs = [rewritten[i] for i in ok.tolist()]
    more_at, more = screen(
        docs, [topics[i] for i in at.tolist()], clock_us[at], rules, topic_prefix
    )
    if not len(more_at):
        return fast_at, fields
    if not len(fast_at):
        return at[more_at], more
    merged = {name: pa.concat_arrays([fields[name], more[name]]) for name in fields}
    return np.concatenate([fast_at, at[more_at]]), merged


def arrow_parse_validate(
    records: pd.DataFrame, rules: Rules, now: datetime | None = None, topic_prefix: str = ""
) -> tuple[pa.Table, pd.DataFrame]:
    """``(valid, rejected)``: valid as an Arrow table with the columns of raw.user_events.

    The vectorised screen (:mod:`streaming.arrow_screen`) proves the ordinary records
    valid a chunk at a time; every other record goes through the reference validator.
    """
    now = now or datetime.now(UTC)
    # The clock of the future-timestamp check is the record's Kafka timestamp (stable on replay).
    stamps = pd.to_datetime(records["timestamp"], utc=True)
    micros = stamps.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")).view("int64")
    nat = np.datetime64("NaT").view("int64")
    clock_us = np.where(micros == nat, int((now - _EPOCH) / timedelta(microseconds=1)), micros)
    values = records["value"].tolist()
    topics = records["topic"].tolist()
    fast_at, fields = _screen_any_form(values, topics, clock_us, rules, topic_prefix)
    fast = np.zeros(len(values), dtype=bool)
    fast[fast_at] = True
    # Plain datetimes: comparing with pandas Timestamps row by row is several times slower.
    slow_at = np.flatnonzero(~fast)
    clocks = _clocks(clock_us[slow_at])
    events: list[dict] = []
    ok_at: list[int] = []
    bad_at: list[int] = []
    reasons: list[str | None] = []
    details: list[str | None] = []
    for i, clock in zip(slow_at.tolist(), clocks, strict=True):
        verdict = check_event(
            values[i], now=clock, rules=rules, topic=topics[i], topic_prefix=topic_prefix
        )
        if verdict.event is not None:
            events.append(verdict.event)
            ok_at.append(i)
        else:
            bad_at.append(i)
            reasons.append(verdict.reason)
            details.append(verdict.detail)
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    empty = {name: pa.array([], VALID_SCHEMA.field(name).type) for name in VALID_SCHEMA.names}
    fast_part = {**empty, **fields}
    fast_part["event_id"] = pc.utf8_lower(fast_part["event_id"])
    slow_part = {
        "event_id": [e["event_id"] for e in events],
        "event_type": [e["event_type"] for e in events],
        "event_ts": [e["event_ts"] for e in events],
        "user_id": [e["user_id"] for e in events],
        "session_id": [e["session_id"] for e in events],
        "movie_id": [e["movie_id"] for e in events],
        "payload": [dumps(e["payload"]) for e in events],
    }
    order = np.concatenate([fast_at, np.array(ok_at, dtype=np.int64)])
    columns = {
        name: pa.concat_arrays(
            [fast_part[name].cast(VALID_SCHEMA.field(name).type),
             pa.array(slow_part[name], VALID_SCHEMA.field(name).type)]
        )
        for name in slow_part
    }  # fmt: skip
    coords = {
        "kafka_topic": pa.array(topics, pa.string()),
        "kafka_partition": pa.array(records["partition"].to_numpy(), pa.int32()),
        "kafka_offset": pa.array(records["offset"].to_numpy(), pa.int64()),
        "kafka_timestamp": pa.array(stamps, pa.timestamp("us", tz="UTC")),
    }
    take = pa.array(order)
    for name, arr in coords.items():
        columns[name] = arr.take(take)
    valid = pa.table(columns, schema=VALID_SCHEMA)
    rejected = pd.DataFrame(
        {
            "kafka_topic": records["topic"].iloc[bad_at].astype("string"),
            "kafka_partition": records["partition"].iloc[bad_at].astype("int32"),
            "kafka_offset": records["offset"].iloc[bad_at].astype("int64"),
            "kafka_timestamp": stamps.iloc[bad_at],
        }
    ).reset_index(drop=True)
    rejected["raw_key"] = records["key"].iloc[bad_at].tolist()
    rejected["raw_value"] = [values[i] for i in bad_at]
    rejected["reason"] = pd.Series(reasons, dtype="string")
    rejected["reason_detail"] = pd.Series(details, dtype="string")
    return valid, rejected[list(REJECTED_COLUMNS)]


def kafka_records(batch: pa.RecordBatch) -> pd.DataFrame:
    """An Arrow batch of Kafka rows (Spark's ``key, value, topic, partition, offset,
    timestamp``, e.g. in ``mapInArrow``) as the frame :func:`arrow_parse_validate` reads."""
    return batch.select(["key", "value", "topic", "partition", "offset", "timestamp"]).to_pandas()
