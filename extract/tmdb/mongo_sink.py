"""The MongoDB sink: the ``raw.movies`` backup, one document per movie (``_id`` = movie id).

FerretDB answers a batch insert in one transaction but takes tens of milliseconds per upsert
and scans the collection for ``$in`` deletes, so the common case (new movies) must be a
plain ``insert_many``; only the ids already present (a changed payload, or a batch a killed
run wrote but never committed) are replaced one by one.

Usage::

    upsert_movies(mongo_client["raw"]["movies"], rows, now, run_id)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from extract.tmdb.records import Row

DUPLICATE_KEY = 11000


def upsert_movies(coll: Any, rows: list[Row], now: datetime, run_id: str) -> None:
    """Upsert by movie id: the payload plus ``payload_hash``, ``ingested_at``, ``run_id``."""
    from pymongo.errors import BulkWriteError

    docs = {
        mid: {**payload, "_id": mid, "payload_hash": h, "ingested_at": now, "run_id": run_id}
        for mid, payload, h in rows
    }
    try:
        coll.insert_many(list(docs.values()), ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        for e in errors:
            mid = e["op"]["_id"] if "op" in e else list(docs)[e["index"]]
            coll.replace_one({"_id": mid}, docs[mid], upsert=True)
