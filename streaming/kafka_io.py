"""confluent-kafka helpers shared by the backup consumer and the pandas fallback.

Offsets are committed by the caller only after its own store has committed
(``commit_chunk``), so a crash in between replays the chunk into idempotent writes.

Usage::

    consumer = make_consumer(settings, "moviepipe-fallback")
    for chunk in iter_chunks(consumer, 10_000, stop_at_end=True):
        ...write chunk...
        commit_chunk(consumer, chunk)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from moviepipe.config import Settings


def make_consumer(settings: Settings, group: str, extra: dict[str, Any] | None = None) -> Consumer:
    """A consumer in ``group`` (topic prefix applied) subscribed to the event topics."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "group.id": settings.topic(group),
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
        # Bound the prefetch queue so memory does not grow with the backlog.
        "queued.max.messages.kbytes": settings.tunables.streaming.consumer_queue_kbytes,
        # One fetch response's size: 8 MB reads a backlog faster but holds ~60 MB more
        # whenever the backlog exceeds the queue, which makes memory depend on the backlog.
        "fetch.max.bytes": 4 * 1024 * 1024,
        # The broker holds an empty fetch this long (500 ms by default): it is how late the
        # end of a drained partition is noticed, so keep it short.
        "fetch.wait.max.ms": 50,
    }
    conf.update(extra or {})
    consumer = Consumer(conf)
    consumer.subscribe(settings.topics)
    return consumer


def iter_chunks(
    consumer: Consumer,
    chunk_size: int,
    *,
    stop_at_end: bool,
    idle_timeout_s: float = 30.0,
    max_wait_s: float = 0.5,
) -> Iterator[list[Message]]:
    """Chunks of at most ``chunk_size`` messages; with ``stop_at_end``, stop when drained.

    A chunk is handed over when full, after ``max_wait_s``, or as soon as every assigned
    partition is at its end: short polls, so draining a backlog never waits out a timeout.
    """
    at_end: set[tuple[str, int]] = set()
    idle_since = time.monotonic()
    while True:
        data: list[Message] = []
        deadline = time.monotonic() + max_wait_s
        drained = False
        while len(data) < chunk_size:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for m in consumer.consume(chunk_size - len(data), timeout=min(0.05, left)):
                err = m.error()
                if err is None:
                    data.append(m)
                    at_end.discard((m.topic(), m.partition()))
                elif err.code() == KafkaError._PARTITION_EOF:
                    at_end.add((m.topic(), m.partition()))
                else:
                    raise KafkaException(err)
            if stop_at_end:
                assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
                drained = bool(assigned) and assigned <= at_end
                if drained:
                    break
        if data:
            idle_since = time.monotonic()
            yield data
        if drained:
            return
        if stop_at_end and not data and time.monotonic() - idle_since > idle_timeout_s:
            return  # nothing assigned or nothing arriving: treat as drained


def commit_chunk(consumer: Consumer, msgs: list[Message]) -> None:
    last: dict[tuple[str, int], int] = {}
    for m in msgs:
        key = (m.topic(), m.partition())
        last[key] = max(last.get(key, -1), m.offset())
    offsets = [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]
    consumer.commit(offsets=offsets, asynchronous=False)


def _ms(m: Message) -> int:
    ms = m.timestamp()[1]
    return -1 if ms is None else ms


def to_records(msgs: list[Message]) -> pd.DataFrame:
    """Messages as the frame ``pandas_parse_validate`` reads."""
    # Milliseconds in one array, converted at once (a Timestamp per message costs ~5 us).
    ms = np.fromiter((_ms(m) for m in msgs), dtype="int64", count=len(msgs))
    ts = pd.Series(pd.to_datetime(ms, unit="ms", utc=True))
    ts[ms < 0] = pd.NaT
    return pd.DataFrame(
        {
            "key": [m.key() for m in msgs],
            "value": [m.value() for m in msgs],
            "topic": [m.topic() for m in msgs],
            "partition": [m.partition() for m in msgs],
            "offset": [m.offset() for m in msgs],
            "timestamp": ts.astype("datetime64[ns, UTC]"),
        }
    )


def end_offsets(admin: AdminClient, topics: list[str]) -> dict[tuple[str, int], int]:
    """High watermarks of every partition of ``topics`` (a metadata and a ListOffsets request)."""
    meta = admin.list_topics(timeout=10)
    request = {
        TopicPartition(t, p): OffsetSpec.latest()
        for t in topics
        if t in meta.topics
        for p in meta.topics[t].partitions
    }
    if not request:
        return {}
    futures = admin.list_offsets(request, request_timeout=10)
    return {(tp.topic, tp.partition): fut.result().offset for tp, fut in futures.items()}
