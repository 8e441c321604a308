"""Backup consumer: every Kafka message, valid or not, into MongoDB (``moviepipe stream backup``).

Its own consumer group, so the MongoDB copy is independent of the Spark path.
Each message becomes one document in ``<mongo.database>.user_logs`` (comment
events also in ``comments``) with ``_id = "<topic>:<partition>:<offset>"`` (zero-padded), so a
replay overwrites the same document. The document keeps the decoded event when
the value is JSON that MongoDB can store, else the raw bytes base64-encoded,
plus the Kafka coordinates and the contract verdict (``valid``, ``reason``).
Offsets are committed after MongoDB acknowledged the chunk.

Usage::

    moviepipe stream backup --available-now
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from moviepipe.config import Settings
from moviepipe.events import check_event
from moviepipe.rules import Rules
from moviepipe.services import mongo
from streaming.kafka_io import commit_chunk, iter_chunks, make_consumer

GROUP = "moviepipe-backup"
# Verdicts that mean the value is not strict JSON, or holds a lone surrogate that BSON
# cannot encode (the reference checks that before any field): kept as base64 bytes.
UNDECODABLE = {"not_json", "not_utf8", "oversize", "bad_unicode"}


DUPLICATE_KEY = 11000
# MongoDB's nesting limit is 100; the backup document wraps the event one level down.
MAX_DEPTH = 90


def mongo_database(settings: Settings) -> str:
    return settings.tunables.mongo.database


def _storable(value: Any, depth: int = 0) -> bool:
    """MongoDB-wire servers refuse some JSON: '$' or '.' in keys, huge integers, NaN,
    and documents nested deeper than 100 levels."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return all(
            not k.startswith("$") and "." not in k and "\x00" not in k and _storable(v, depth + 1)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return all(_storable(v, depth + 1) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    return True


def backup_id(topic: str, partition: int, offset: int) -> str:
    """``topic:partition:offset``, zero-padded so ids sort in arrival order per partition.

    The MongoDB extractor copies incrementally from a bookmark on ``_id``; with
    unpadded offsets ``...:10`` would sort before ``...:9`` and land below it.
    """
    return f"{topic}:{partition:05d}:{offset:020d}"


def insert_new(collection: Collection, docs: list[dict[str, Any]]) -> int:
    """Insert documents whose ``_id`` is not there yet; returns how many were new.

    A Kafka coordinate always holds the same message, so "insert if absent" is as
    idempotent as an upsert, and FerretDB runs a batch insert ~50x faster than
    per-document upserts.
    """
    if not docs:
        return 0
    try:
        return len(collection.insert_many(docs, ordered=False).inserted_ids)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        return exc.details.get("nInserted", len(docs) - len(errors))


def backup_document(
    msg: dict[str, Any], rules: Rules, now: datetime, topic_prefix: str = ""
) -> dict[str, Any]:
    """The MongoDB document for one message.

    ``msg`` has key, value, topic, partition, offset, timestamp.
    """
    value: bytes | None = msg["value"]
    verdict = check_event(
        value,
        now=msg["timestamp"] or now,
        rules=rules,
        topic=msg["topic"],
        topic_prefix=topic_prefix,
    )
    doc: dict[str, Any] = {
        "_id": backup_id(msg["topic"], msg["partition"], msg["offset"]),
        "topic": msg["topic"],
        "partition": msg["partition"],
        "offset": msg["offset"],
        "kafka_timestamp": msg["timestamp"],
        "key": msg["key"].decode("utf-8", "replace") if msg["key"] is not None else None,
        "valid": verdict.reason is None,
        "reason": verdict.reason,
        "backed_up_at": now,
    }
    decoded = None
    if verdict.reason not in UNDECODABLE:  # strict JSON: no NaN, no duplicate keys
        with contextlib.suppress(ValueError):
            decoded = json.loads(value) if value else None
    if decoded is not None and _storable(decoded):
        doc["event"] = decoded  # encoded once, by the insert
    else:
        doc["raw_value_b64"] = None if value is None else base64.b64encode(value).decode("ascii")
    return doc


def run_backup(
    settings: Settings,
    rules: Rules,
    *,
    available_now: bool,
    database: str | None = None,
    chunk_size: int = 5000,
) -> dict[str, int]:
    database = database or mongo_database(settings)
    consumer = make_consumer(settings, GROUP)
    totals = {"messages": 0, "comments": 0, "invalid": 0}
    with mongo.client(settings) as mc:
        logs, comments = mc[database]["user_logs"], mc[database]["comments"]
        try:
            for msgs in iter_chunks(consumer, chunk_size, stop_at_end=available_now):
                now = datetime.now(UTC)
                docs = []
                for m in msgs:
                    _, ts_ms = m.timestamp()
                    ts = datetime.fromtimestamp(ts_ms / 1000, UTC) if ts_ms and ts_ms > 0 else None
                    docs.append(
                        backup_document(
                            {
                                "key": m.key(),
                                "value": m.value(),
                                "topic": m.topic(),
                                "partition": m.partition(),
                                "offset": m.offset(),
                                "timestamp": ts,
                            },
                            rules,
                            now,
                            settings.moviepipe_topic_prefix,
                        )
                    )
                insert_new(logs, docs)
                comment_docs = [
                    d
                    for d in docs
                    if isinstance(d.get("event"), dict)
                    and d["event"].get("event_type") == "comment"
                ]
                insert_new(comments, comment_docs)
                commit_chunk(consumer, msgs)
                totals["messages"] += len(docs)
                totals["comments"] += len(comment_docs)
                totals["invalid"] += sum(not d["valid"] for d in docs)
        except KeyboardInterrupt:
            pass
        finally:
            consumer.close()
    return totals
