"""``moviepipe extract mongo``: MongoDB backup collections into the bronze layer, incrementally.

``raw.user_logs`` -> ``raw.mongo_user_logs`` and ``raw.comments`` -> ``raw.mongo_comments``
(the MongoDB database is ``mongo.database`` in the YAML config). Each document lands as
jsonb (ObjectId, datetime, Decimal128, bytes, ... made JSON-safe by :func:`json_safe`) with
``doc_id`` (the ``_id`` as text), ``ingested_at``, ``run_id`` and ``source_flag``.

Incremental by a bookmark on ``_id`` (``ops.bookmarks`` ``mongo.<collection>``): documents
with a greater ``_id`` are read in ascending ``_id`` order, in bounded batches; each batch
is inserted (``on conflict (doc_id) do nothing``) and the bookmark advanced **in the same
transaction**, so a kill at any point loses and duplicates nothing. ``_id`` values of one
BSON type per collection are assumed (strings or ObjectIds).

Ids that are not assigned in increasing order (e.g. ``"<topic>:<partition>:<offset>"``
strings) can land below the bookmark: after the incremental pass the document counts are
compared and, if MongoDB has more, a sweep copies the ids PostgreSQL lacks (``sweep=True``
forces it).

Usage::

    summary = run_mongo_extract(settings)            # all collections
    run_mongo_extract(settings, mongo_db="mp_test_x", batch_size=100)
"""

from __future__ import annotations

import base64
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from bson import Decimal128, ObjectId
from psycopg.types.json import Jsonb

from extract.pg import insert_returning
from moviepipe import db, runlog
from moviepipe.config import Settings

log = logging.getLogger(__name__)

STEP = "extract mongo"
SOURCE_FLAG = "mongo"
COLLECTIONS = {"user_logs": "raw.mongo_user_logs", "comments": "raw.mongo_comments"}


# ---- pure helpers ----------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """A BSON value as plain JSON: ObjectId/UUID/Decimal as text, datetimes as ISO-8601 (UTC
    when naive, as pymongo returns them), bytes as base64, non-finite floats as text."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal128):
        return str(value.to_decimal())
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, ObjectId | uuid.UUID | Decimal):
        return str(value)
    return str(value)  # Timestamp, Regex, MinKey, ...: kept readable rather than dropped


def doc_id_text(value: Any) -> str:
    """The ``doc_id`` column: the ``_id`` as text (strings as they are, ObjectId as hex)."""
    if isinstance(value, str):
        return value
    if isinstance(value, ObjectId):
        return str(value)
    return json.dumps(json_safe(value), sort_keys=True)


def encode_bookmark(value: Any) -> str:
    """Bookmark text that keeps the ``_id``'s BSON type, so the next query compares like types."""
    if isinstance(value, ObjectId):
        return json.dumps({"type": "objectid", "value": str(value)})
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"unsupported _id type for a bookmark: {type(value).__name__}")
    kind = "string" if isinstance(value, str) else "number"
    return json.dumps({"type": kind, "value": value})


def decode_bookmark(text: str | None) -> Any:
    if text is None:
        return None
    mark = json.loads(text)
    return ObjectId(mark["value"]) if mark["type"] == "objectid" else mark["value"]


@dataclass
class CollectionSummary:
    copied: int = 0
    already_present: int = 0
    batches: int = 0
    swept: int = 0
    bookmark: str | None = None


@dataclass
class MongoSummary:
    run_id: str
    status: str = "running"
    collections: dict[str, CollectionSummary] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def line(self) -> str:
        parts = [
            f"{name}: {c.copied} copied ({c.swept} by sweep), {c.already_present} already present"
            for name, c in self.collections.items()
        ]
        return f"run {self.run_id} {self.status} in {self.elapsed_s:.1f}s; " + "; ".join(parts)

    def for_log(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "elapsed_s": self.elapsed_s,
            "collections": {k: vars(v) for k, v in self.collections.items()},
        }


# ---- I/O -------------------------------------------------------------------------------------


def insert_batch(
    conn: psycopg.Connection, table: str, docs: list[dict[str, Any]], run_id: str
) -> int:
    """Insert one batch (inside the caller's transaction); returns the rows actually added."""
    now = datetime.now(UTC)
    with conn.cursor() as cur:
        added = insert_returning(
            cur,
            f"insert into {table} (doc_id, document, ingested_at, run_id, source_flag)"
            " values (%s, %s, %s, %s, %s) on conflict (doc_id) do nothing returning doc_id",
            [(doc_id_text(d["_id"]), Jsonb(json_safe(d)), now, run_id, SOURCE_FLAG) for d in docs],
        )
    return len(added)


def copy_incremental(
    conn: psycopg.Connection,
    source: Any,
    table: str,
    name: str,
    run_id: str,
    batch_size: int,
    out: CollectionSummary,
) -> None:
    bookmark_name = f"mongo.{name}"
    last = decode_bookmark(runlog.get_bookmark(conn, bookmark_name))
    query = {"_id": {"$gt": last}} if last is not None else {}
    # One sorted query streamed in batches: FerretDB sorts by scanning, so a query per batch
    # would rescan the collection each time. Each batch commits with its bookmark.
    cursor = source.find(query).sort("_id", 1).batch_size(batch_size)
    batch: list[dict[str, Any]] = []
    try:
        for doc in cursor:
            batch.append(doc)
            if len(batch) == batch_size:
                _commit_batch(conn, table, bookmark_name, batch, run_id, out)
                batch = []
        if batch:
            _commit_batch(conn, table, bookmark_name, batch, run_id, out)
    finally:
        cursor.close()


def _commit_batch(
    conn: psycopg.Connection,
    table: str,
    bookmark_name: str,
    docs: list[dict[str, Any]],
    run_id: str,
    out: CollectionSummary,
) -> None:
    with conn.transaction():
        added = insert_batch(conn, table, docs, run_id)
        mark = encode_bookmark(docs[-1]["_id"])
        runlog.set_bookmark(conn, bookmark_name, mark, run_id)
    out.copied += added
    out.already_present += len(docs) - added
    out.batches += 1
    out.bookmark = mark


def sweep_missing(
    conn: psycopg.Connection,
    source: Any,
    table: str,
    run_id: str,
    batch_size: int,
    out: CollectionSummary,
) -> None:
    """Copy the documents whose ``_id`` PostgreSQL lacks, whatever the bookmark says."""
    present = {row[0] for row in conn.execute(f"select doc_id from {table}")}
    missing = [
        d["_id"] for d in source.find({}, {"_id": 1}) if doc_id_text(d["_id"]) not in present
    ]
    for i in range(0, len(missing), batch_size):
        docs = list(source.find({"_id": {"$in": missing[i : i + batch_size]}}))
        with conn.transaction():
            added = insert_batch(conn, table, docs, run_id)
        out.copied += added
        out.swept += added


def run_mongo_extract(
    settings: Settings,
    *,
    collections: list[str] | None = None,
    mongo_db: str | None = None,
    batch_size: int | None = None,
    sweep: bool = False,
) -> MongoSummary:
    from moviepipe.services import mongo

    t0 = time.monotonic()
    summary = MongoSummary(runlog.new_run_id("mongo"))
    names = collections or list(COLLECTIONS)
    unknown = sorted(set(names) - set(COLLECTIONS))
    if unknown:
        raise ValueError(f"unknown collection(s) {unknown}; known: {sorted(COLLECTIONS)}")
    batch_size = batch_size or settings.tunables.mongo.batch_size
    database = mongo_db or settings.tunables.mongo.database
    with mongo.client(settings) as mc, db.connect(settings, "loader", autocommit=True) as conn:
        args = {"collections": names, "database": database, "batch_size": batch_size}
        secrets = runlog.secret_values(settings)
        with runlog.run(conn, summary.run_id, STEP, args, secrets=secrets) as run:
            summary.status = "failed"  # until every collection is copied
            try:
                for name in names:
                    source = mc[database][name]
                    out = summary.collections[name] = CollectionSummary()
                    table = COLLECTIONS[name]
                    copy_incremental(conn, source, table, name, summary.run_id, batch_size, out)
                    in_pg = conn.execute(f"select count(*) from {table}").fetchone()[0]
                    if sweep or source.count_documents({}) > in_pg:
                        sweep_missing(conn, source, table, summary.run_id, batch_size, out)
                summary.status = "succeeded"
            finally:
                summary.elapsed_s = round(time.monotonic() - t0, 3)
                run.summary = summary.for_log()
    return summary
