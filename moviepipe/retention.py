"""Retention of the monthly event partitions (``moviepipe/sql/007_partitions.sql``).

Every monthly partition of raw.user_events, raw.user_events_fallback and
raw.user_events_rejected that lies entirely before the start of the month ``months``
months ago is detached and dropped, or with ``archive_dir`` first copied to a gzipped
CSV (with a header) in that directory. Each partition dropped is one row of
``ops.retention_log``. Runs as the owner (admin role): only the owner may detach::

    from moviepipe import retention
    with db.connect(settings, "admin", autocommit=True) as conn:
        actions = retention.apply(conn, months=24, run_id="retention-...")

Safe to kill and to repeat: a partition is detached in one short transaction (the only
moment its table is locked), then archived, logged and dropped in a second one, the file
renamed into place just before that commits. A run killed between the two finds the
detached partition by its name next time and finishes it; a partition already dropped is
simply not there any more.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from moviepipe.partitions import PARTITION_KEYS, add_months, month_start

PARTITIONED_TABLES = tuple(PARTITION_KEYS)
# Detaching waits at most this long for readers of the table, then the run fails (retry).
LOCK_TIMEOUT = "5s"
_MONTH_NAME = re.compile(r"^(?P<parent>.+)_p(?P<year>\d{4})(?P<month>\d{2})$")


@dataclass(frozen=True)
class Partition:
    parent: str  # e.g. raw.user_events
    name: str  # e.g. raw.user_events_p202401
    range_from: datetime
    range_to: datetime
    attached: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cutoff(now: datetime, months: int) -> datetime:
    """The start of the month ``months`` months before ``now``'s (UTC): partitions that
    end at or before it are expired; the current month counts as month 0."""
    return add_months(month_start(now), -months)


def expired(partitions: Iterable[Partition], limit: datetime) -> list[Partition]:
    """The partitions entirely older than ``limit``, oldest first."""
    return sorted((p for p in partitions if p.range_to <= limit), key=lambda p: p.range_from)


def month_bounds(name: str) -> tuple[str, datetime, datetime] | None:
    """``(parent, from, to)`` of a partition named ``<parent>_pYYYYMM``, else None."""
    match = _MONTH_NAME.match(name)
    if not match:
        return None
    start = datetime(int(match["year"]), int(match["month"]), 1, tzinfo=UTC)
    return match["parent"], start, add_months(start, 1)


def partitions(conn: psycopg.Connection) -> list[Partition]:
    """The bounded partitions of the event tables, and monthly ones left detached by a
    killed run (found by name); the default partitions are never expired."""
    found = []
    rows = conn.execute(
        "select i.inhparent::regclass::text, c.oid::regclass::text,"
        " (regexp_match(pg_get_expr(c.relpartbound, c.oid),"
        "   $$FROM \\('([^']+)'\\) TO \\('([^']+)'\\)$$))"
        " from pg_inherits i join pg_class c on c.oid = i.inhrelid"
        " where i.inhparent = any(%s::regclass[])",
        (list(PARTITIONED_TABLES),),
    ).fetchall()
    for parent, name, bounds in rows:
        if bounds:  # None for the default partition
            lo, hi = (datetime.fromisoformat(b) for b in bounds)
            found.append(Partition(parent, name, lo.astimezone(UTC), hi.astimezone(UTC)))
    for (name,) in conn.execute(
        "select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'raw' and c.relkind = 'r' and not c.relispartition"
        " and c.relname ~ '^user_events(_fallback|_rejected)?_p[0-9]{6}$'"
    ):
        parent, lo, hi = month_bounds(name) or (None, None, None)
        if parent in PARTITIONED_TABLES and lo and hi:
            found.append(Partition(parent, name, lo, hi, attached=False))
    return found


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(*name.split("."))


def archive_path(directory: Path, part: Partition) -> Path:
    return directory / f"{part.name}.csv.gz"


def _copy_out(conn: psycopg.Connection, part: Partition, path: Path) -> None:
    """COPY the partition into ``path``'s temporary file (gzipped CSV), flushed to disk."""
    tmp = path.with_name(path.name + ".tmp")
    with gzip.open(tmp, "wb") as out, conn.cursor() as cur:
        query = sql.SQL("copy {} to stdout (format csv, header)").format(_ident(part.name))
        with cur.copy(query) as cp:
            for chunk in cp:
                out.write(chunk)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())


def _retire(
    conn: psycopg.Connection, part: Partition, run_id: str, archive_dir: Path | None
) -> dict[str, Any]:
    if part.attached:
        with conn.transaction():
            conn.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
            conn.execute(
                sql.SQL("alter table {} detach partition {}").format(
                    _ident(part.parent), _ident(part.name)
                )
            )
    path = archive_path(archive_dir, part) if archive_dir else None
    with conn.transaction():
        # No writer can reach a detached partition; the lock guards against a second run.
        conn.execute(sql.SQL("lock table {} in exclusive mode").format(_ident(part.name)))
        if path is not None:
            _copy_out(conn, part, path)
        (rows,) = conn.execute(
            sql.SQL("select count(*) from {}").format(_ident(part.name))
        ).fetchone()
        action = "archived" if path else "dropped"
        conn.execute(
            "insert into ops.retention_log (run_id, parent_table, partition_name, range_from,"
            " range_to, row_count, action, archive_path) values (%s, %s, %s, %s, %s, %s, %s, %s)",
            (run_id, part.parent, part.name, part.range_from, part.range_to, rows, action,
             str(path) if path else None),
        )  # fmt: skip
        conn.execute(sql.SQL("drop table {}").format(_ident(part.name)))
        if path is not None:
            os.replace(path.with_name(path.name + ".tmp"), path)
    return {**part.as_dict(), "rows": rows, "action": action, "archive_path": path}


def apply(
    conn: psycopg.Connection,
    months: int,
    run_id: str,
    *,
    dry_run: bool = False,
    archive_dir: Path | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Drop (or archive, then drop) every partition entirely older than ``months`` months;
    returns one dict per partition (``action`` ``would drop`` on a dry run)."""
    if months < 1:
        raise ValueError("retention keeps at least the current month: months >= 1")
    with conn.transaction():
        if not dry_run:
            # Rows waiting in a default partition get their month first, to age out too.
            for table in PARTITIONED_TABLES:
                conn.execute("select raw.drain_default_partition(%s::regclass)", (table,))
        found = expired(partitions(conn), cutoff(now or datetime.now(UTC), months))
    if dry_run:
        return [{**p.as_dict(), "rows": None, "action": "would drop"} for p in found]
    if archive_dir is not None:
        archive_dir.mkdir(parents=True, exist_ok=True)
    return [_retire(conn, p, run_id, archive_dir) for p in found]
