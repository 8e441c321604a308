"""Kafka producer for front-end events (``moviepipe stream produce``).

Idempotent confluent-kafka producer (``enable.idempotence``, ``acks=all``),
keyed by ``user_id``, each event on its type's topic
(``transform_rules.json`` ``events.topic_by_event_type`` through
``settings.topic``); every delivery is confirmed (``flush``) before returning.

Usage::

    summary = produce(settings, rules, simulate_events(1000, 7, ids), rate=200)
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from confluent_kafka import Producer

from moviepipe.config import Settings
from moviepipe.rules import Rules


def make_producer(settings: Settings) -> Producer:
    return Producer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 200_000,
        }
    )


def produce(
    settings: Settings,
    rules: Rules,
    events: Iterable[dict[str, Any]],
    *,
    rate: float | None = None,
    producer: Producer | None = None,
    on_sent=None,
) -> dict[str, Any]:
    """Send ``events`` (dicts, or ``(topic, key, bytes)`` for raw messages); returns a summary."""
    producer = producer or make_producer(settings)
    sent: Counter[str] = Counter()
    failed: list[str] = []
    delivered = 0

    def on_delivery(err, msg) -> None:
        nonlocal delivered
        if err is not None:
            failed.append(str(err))
        else:
            delivered += 1

    topics = rules.events.topic_by_event_type
    started = time.monotonic()
    for i, event in enumerate(events):
        if rate:
            wait = started + i / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        if isinstance(event, tuple):
            topic, key, value = event
        else:
            topic = settings.topic(topics.get(event.get("event_type"), "user_click_log"))
            key = str(event.get("user_id", "")).encode()
            value = json.dumps(event, separators=(",", ":")).encode()
        while True:
            try:
                producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.05)  # local queue full: let deliveries drain
        producer.poll(0)
        sent[topic] += 1
        if on_sent is not None:
            on_sent(event)
    remaining = producer.flush(60)
    elapsed = time.monotonic() - started
    total = sum(sent.values())
    return {
        "sent": total,
        "delivered": delivered,
        "failed": len(failed) + remaining,
        "errors": failed[:5],
        "by_topic": dict(sent),
        "seconds": round(elapsed, 2),
        "events_per_s": round(total / elapsed, 1) if elapsed else None,
    }
