"""Event histories of any size for the scale benchmark, shaped like landed events.

The project's simulator (:func:`streaming.sources.simulate_events`) makes about
40k events/s in Python: 4 minutes for 10M events before any COPY. So one
simulated week is made by the simulator once (:func:`simulated_week`, about
160k events at its default rate) and the history is that week repeated back in
time, a copy a week (:func:`history_chunks`): each copy gets new ``event_id``s
(seeded UUIDv4), its own session and comment ids (a ``-w<copy>`` suffix) and
its own Kafka offsets; types, users, movies, payloads and the hour/weekday
rhythm are the simulator's. Same seed, same rows.

Rows are Arrow tables with the columns the sinks write
(:data:`streaming.pandas_transforms.VALID_SCHEMA`) plus ``ingested_at``: a
history was landed as it happened (event time plus Kafka and landing lag), not
all at once on the benchmark's clock, which matters to models whose lookback
window is measured in landing time.

Usage::

    week = simulated_week(seed=7, movie_ids=ids, rules=rules)
    for chunk in history_chunks(1_000_000, week, seed=7, end=end): ...  # oldest first
    new = events_table(list(simulate_events(10_000, seed=8, movie_ids=ids, start=end)), rules)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from moviepipe.events import topic_for
from moviepipe.rules import Rules
from streaming.pandas_transforms import VALID_SCHEMA
from streaming.sources import DEFAULT_MOVIE_IDS, simulate_events

WEEK = timedelta(days=7)
# Kafka timestamp after the event, then landing after Kafka: a micro-batch's usual delays.
KAFKA_LAG = timedelta(milliseconds=150)
LANDING_LAG = timedelta(seconds=2)
SCHEMA = VALID_SCHEMA.append(pa.field("ingested_at", pa.timestamp("us", tz="UTC")))
_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2").view(np.uint8).reshape(-1, 2)


def events_table(events: Sequence[dict], rules: Rules, first_offset: int = 0) -> pa.Table:
    """Simulator events as a landed batch (:data:`SCHEMA`), Kafka offsets from ``first_offset``."""
    event_ts = pa.array(
        [datetime.fromisoformat(e["event_ts"]) for e in events], pa.timestamp("us", tz="UTC")
    )
    kafka_ts = pc.add(event_ts, pa.scalar(KAFKA_LAG))
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    columns = {
        "event_id": [e["event_id"] for e in events],
        "event_type": [e["event_type"] for e in events],
        "event_ts": event_ts,
        "user_id": [e["user_id"] for e in events],
        "session_id": [e["session_id"] for e in events],
        "movie_id": [e["movie_id"] for e in events],
        "payload": [dumps(e["payload"]) for e in events],
        "kafka_topic": [topic_for(e["event_type"], rules) for e in events],
        "kafka_partition": [0] * len(events),
        "kafka_offset": range(first_offset, first_offset + len(events)),
        "kafka_timestamp": kafka_ts,
        "ingested_at": pc.add(kafka_ts, pa.scalar(LANDING_LAG)),
    }
    return pa.table(columns, schema=SCHEMA)


def simulated_week(
    seed: int,
    rules: Rules,
    movie_ids: Sequence[int] = DEFAULT_MOVIE_IDS,
    users: int = 2000,
    sessions_per_hour: float = 120.0,
) -> pa.Table:
    """One week of the simulator's events from a Monday midnight (:func:`events_table`);
    ``users`` and ``sessions_per_hour`` as :func:`~streaming.sources.simulate_events`."""
    start = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday: copies a week apart keep the rhythm
    week: list[dict] = []
    events = simulate_events(
        10**12, seed, movie_ids, start, users=users, sessions_per_hour=sessions_per_hour
    )
    for event in events:
        if datetime.fromisoformat(event["event_ts"]) >= start + WEEK:
            break
        week.append(event)
    return events_table(week, rules)


def uuid4_strings(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` random UUIDv4 strings (lower-case, dashed), vectorised."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexed = _HEX[raw].reshape(n, 32)
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    parts = [hexed[:, :8], dash, hexed[:, 8:12], dash, hexed[:, 12:16], dash,
             hexed[:, 16:20], dash, hexed[:, 20:]]  # fmt: skip
    text = np.ascontiguousarray(np.hstack(parts)).view("S36").reshape(n)
    return pa.array(text, pa.binary(36)).cast(pa.string())


def week_copy(week: pa.Table, copy: int, start: datetime, seed: int, first_offset: int) -> pa.Table:
    """``week`` moved to begin at ``start``, with the ids of copy number ``copy``."""
    n = week.num_rows
    shift = pa.scalar(start - datetime(2024, 1, 1, tzinfo=UTC))
    suffix = f"-w{copy}"
    columns = {name: week.column(name) for name in SCHEMA.names}
    columns["event_id"] = uuid4_strings(np.random.default_rng([seed, copy]), n)
    for name in ("event_ts", "kafka_timestamp", "ingested_at"):
        columns[name] = pc.add(week.column(name), shift)
    columns["session_id"] = pc.binary_join_element_wise(week.column("session_id"), suffix, "")
    columns["payload"] = pc.replace_substring_regex(
        week.column("payload"), r'"comment_id":"([^"]*)"', rf'"comment_id":"\1{suffix}"'
    )
    columns["kafka_offset"] = pa.array(np.arange(first_offset, first_offset + n, dtype=np.int64))
    return pa.table(columns, schema=SCHEMA)


def history_chunks(n: int, week: pa.Table, *, seed: int, end: datetime) -> Iterator[pa.Table]:
    """The ``n`` events before ``end``, oldest first, one copy of ``week`` per chunk."""
    copies = -(-n // week.num_rows)
    skip = copies * week.num_rows - n  # the oldest copy is cut to its newest rows
    offset = 0
    for copy in range(copies):
        chunk = week_copy(week, copy, end - (copies - copy) * WEEK, seed, offset)
        offset += chunk.num_rows
        yield chunk.slice(skip) if copy == 0 else chunk
