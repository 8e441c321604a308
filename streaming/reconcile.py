"""Reconciliation: MongoDB backup vs raw.user_events vs raw.user_events_fallback.

Compares the valid events (by ``event_id``) in the three stores, restricted to
this environment's topics, and the rejected messages (by Kafka coordinates) in
the backup vs raw.user_events_rejected. ``ok`` is false when an event is in
the backup but in neither landing table (lost), when a landed event is missing
from the backup, or when a rejected message has no dead-letter row.
Events only in the fallback table are reported as pending promotion.

A landing path (``stream land`` into raw.user_events, ``stream fallback`` into
raw.user_events_fallback) is compared with the backup only once it has run
(a row in ops.run_log, or rows in its table): a fallback that never ran is not
"missing" every event. Its ``missing_from_*`` entries are then ``None``.

Usage::

    moviepipe stream reconcile          # a short summary; exit 1 when anything is missing
    moviepipe stream reconcile --json   # the full report

From Python: ``reconcile(settings)`` returns the report, :func:`summary_lines` its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moviepipe import db
from moviepipe.config import Settings
from moviepipe.services import mongo
from streaming.backup import mongo_database

SAMPLE = 10
# The ops.run_log step of each landing path, and the table it writes.
PATHS = {"user_events": "stream land", "fallback": "stream fallback"}
TABLES = {"user_events": "raw.user_events", "fallback": "raw.user_events_fallback"}


@dataclass(frozen=True)
class Stores:
    """What each store holds for this environment's topics."""

    backup_ids: set[str]
    backup_rejected: set[tuple[str, int, int]]
    landed: set[str]
    fallback: set[str]
    dead: set[tuple[str, int, int]]
    land_ran: bool = True
    fallback_ran: bool = True


def compare(s: Stores) -> dict[str, Any]:
    """The reconciliation report of ``s`` (pure)."""
    land_ran = s.land_ran or bool(s.landed)
    fallback_ran = s.fallback_ran or bool(s.fallback)
    landed_any = s.landed | s.fallback
    sets: dict[str, set | None] = {
        "missing_from_backup": landed_any - s.backup_ids,
        "missing_from_user_events": s.backup_ids - s.landed if land_ran else None,
        "missing_from_fallback": s.backup_ids - s.fallback if fallback_ran else None,
        "lost": s.backup_ids - landed_any,
        "pending_promotion": (s.fallback - s.landed) & s.backup_ids,
        "rejected_missing_from_dead_letter": s.backup_rejected - s.dead,
    }
    report: dict[str, Any] = {
        "compared": {"user_events": land_ran, "fallback": fallback_ran},
        "backup_events": len(s.backup_ids),
        "backup_rejected": len(s.backup_rejected),
        "user_events": len(s.landed),
        "fallback_events": len(s.fallback),
        "dead_letters": len(s.dead),
    }
    for name, values in sets.items():
        report[name] = None if values is None else len(values)
        report[f"{name}_sample"] = None if values is None else sorted(map(str, values))[:SAMPLE]
    report["ok"] = not (
        sets["missing_from_backup"] or sets["lost"] or sets["rejected_missing_from_dead_letter"]
    )
    return report


# Counts that make the report not ok, with what they mean to a reader.
PROBLEMS = {
    "lost": "in the backup but in no landing table (lost)",
    "missing_from_backup": "landed but missing from the MongoDB backup",
    "rejected_missing_from_dead_letter": "rejected but without a dead-letter row",
}


def summary_lines(report: dict[str, Any]) -> list[str]:
    """A short text of ``report``: what was compared, what is missing, ok or not (pure)."""
    compared = report["compared"]

    def landing(key: str, count: int) -> str:
        if not compared[key]:
            return f"{TABLES[key]} (`{PATHS[key]}` never ran: not compared)"
        return f"{TABLES[key]} ({count:,})"

    lines = [
        f"compared the MongoDB backup ({report['backup_events']:,} events, "
        f"{report['backup_rejected']:,} rejected messages) with",
        f"  {landing('user_events', report['user_events'])},",
        f"  {landing('fallback', report['fallback_events'])},",
        f"  raw.user_events_rejected ({report['dead_letters']:,} dead letters)",
    ]
    for key, meaning in PROBLEMS.items():
        if report[key]:
            sample = ", ".join(report[f"{key}_sample"])
            lines.append(f"{report[key]:,} {meaning}, e.g. {sample}")
    if report["pending_promotion"]:
        lines.append(
            f"{report['pending_promotion']:,} events only in the fallback table: "
            "pending promotion (moviepipe stream promote-fallback RUN_ID)"
        )
    lines.append("ok" if report["ok"] else "NOT OK: events are missing where they should be")
    return lines


def _pg_ids(conn, table: str, topics: list[str]) -> set[str]:
    rows = conn.execute(
        f"select event_id::text from {table} where kafka_topic = any(%s)",
        (topics,),
    )
    return {r[0] for r in rows}


def _steps_run(conn, steps: list[str]) -> set[str]:
    rows = conn.execute("select distinct step from ops.run_log where step = any(%s)", (steps,))
    return {r[0] for r in rows}


def reconcile(settings: Settings, database: str | None = None) -> dict[str, Any]:
    """Read the three stores for ``settings``' topics and :func:`compare` them."""
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
        ran = _steps_run(conn, list(PATHS.values()))
        stores = Stores(
            backup_ids=backup_ids,
            backup_rejected=backup_rejected,
            landed=_pg_ids(conn, TABLES["user_events"], topics),
            fallback=_pg_ids(conn, TABLES["fallback"], topics),
            dead={
                (t, p, o)
                for t, p, o in conn.execute(
                    "select kafka_topic, kafka_partition, kafka_offset"
                    " from raw.user_events_rejected where kafka_topic = any(%s)",
                    (topics,),
                )
            },
            land_ran=PATHS["user_events"] in ran,
            fallback_ran=PATHS["fallback"] in ran,
        )
    return compare(stores)
