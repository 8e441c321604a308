"""The simulator's events as another client would write them: same events, other JSON.

The landing must not depend on the producer's formatting. ``other_client`` writes
each event as Python's ``json.dumps`` does by default (a space after every
separator), with the keys in another order (reversed, payload included), every
other event with ``\\u`` escapes (the hyphens of its ``event_id``), and every third
without its optional ``session_id``. The values, and so the verdicts, are the
canonical events' own.

Usage::

    raw = other_client(event, i)                       # bytes of one Kafka message
    messages = as_messages(settings, rules, events, other_client)   # for produce()
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def canonical(event: dict[str, Any], i: int) -> bytes:
    """What streaming.producer writes: compact, the contract's key order."""
    return json.dumps(event, separators=(",", ":")).encode()


def other_client(event: dict[str, Any], i: int) -> bytes:
    doc = {k: event[k] for k in reversed(event) if not (k == "session_id" and i % 3 == 0)}
    doc["payload"] = {k: event["payload"][k] for k in reversed(event["payload"])}
    text = json.dumps(doc)
    if i % 2 == 0:
        text = text.replace(event["event_id"], event["event_id"].replace("-", "\\u002d"))
    return text.encode()


FORMATS: dict[str, Callable[[dict[str, Any], int], bytes]] = {
    "canonical": canonical,
    "non-canonical": other_client,
}


def as_messages(
    settings, rules, events: Iterable[dict[str, Any]], fmt: Callable[[dict[str, Any], int], bytes]
) -> Iterator[tuple[str, bytes, bytes]]:
    """``(topic, key, value)`` per event, as :func:`streaming.producer.produce` takes them."""
    topics = rules.events.topic_by_event_type
    for i, e in enumerate(events):
        yield settings.topic(topics[e["event_type"]]), str(e["user_id"]).encode(), fmt(e, i)
