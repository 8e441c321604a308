"""Reconciliation: MongoDB backup vs raw.user_events vs raw.user_events_fallback.

Compares the valid events (by ``event_id``) in the three stores, restricted to
this environment's topics, and the rejected messages (by Kafka coordinates) in
the backup vs raw.user_events_rejected. ``ok`` is false when an event is in
the backup but in neither landing table (lost), when a landed event is missing
from the backup, or when a rejected message has no dead-letter row.
Events only in the fallback table are reported as pending promotion.

Usage::

    moviepipe stream reconcile        # exit 1 and a report when anything is missing
"""

from __future__ import annotations

from typing import Any

from moviepipe import db
from moviepipe.config import Settings
from moviepipe.services import mongo
from streaming.backup import mongo_database

SAMPLE = 10


def _pg_ids(conn, table: str, topics: list[str]) -> set[str]:
    rows = conn.execute(
        f"select event_id::text from {table} where kafka_topic = any(%s)",
        (topics,),
    )
    return {r[0] for r in rows}


def reconcile(settings: Settings, database: str | None = None) -> dict[str, Any]:
    topics = settings.topics
    with mongo.client(settings) as mc:
        coll = mc[database or mongo_database(settings)]["user_logs"]
        backup_ids: set[str] = set()
        backup_rejected: set[tuple[str, int, int]] = set()
        for d in coll.find(
            {"topic": {"$in": topics}},
            {"valid": 1, "event.event_id": 1, "topic": 1, "partition": 1, "offset": 1},
        ):
            if d.get("valid"):
                backup_ids.add(str(d["event"]["event_id"]).lower())
            else:
                backup_rejected.add((d["topic"], int(d["partition"]), int(d["offset"])))
    with db.connect(settings, "loader") as conn:
        landed = _pg_ids(conn, "raw.user_events", topics)
        fallback = _pg_ids(conn, "raw.user_events_fallback", topics)
        dead = {
            (t, p, o)
            for t, p, o in conn.execute(
                "select kafka_topic, kafka_partition, kafka_offset from raw.user_events_rejected"
                " where kafka_topic = any(%s)",
                (topics,),
            )
        }
    landed_any = landed | fallback
    sets = {
        "missing_from_backup": landed_any - backup_ids,
        "missing_from_user_events": backup_ids - landed,
        "missing_from_fallback": backup_ids - fallback,
        "lost": backup_ids - landed_any,
        "pending_promotion": (fallback - landed) & backup_ids,
        "rejected_missing_from_dead_letter": backup_rejected - dead,
    }
    report: dict[str, Any] = {
        "backup_events": len(backup_ids),
        "backup_rejected": len(backup_rejected),
        "user_events": len(landed),
        "fallback_events": len(fallback),
        "dead_letters": len(dead),
    }
    for name, values in sets.items():
        report[name] = len(values)
        report[f"{name}_sample"] = sorted(map(str, values))[:SAMPLE]
    report["ok"] = not (
        sets["missing_from_backup"] or sets["lost"] or sets["rejected_missing_from_dead_letter"]
    )
    return report
