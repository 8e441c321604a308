"""PostgreSQL side of the event pipeline: one batch, one transaction, exactly once.

``write_batch`` lands a validated batch: valid rows go by COPY into a temporary
stage and one set-based ``insert ... on conflict (event_id, event_ts) do nothing``
(:data:`EVENT_KEY`); rejected rows into raw.user_events_rejected (idempotent on their
coordinates); and, for streaming sinks, the ``(sink, batch_id)`` row of
``ops.stream_batches`` is claimed first in the same transaction, so a replayed batch
changes nothing.

The event tables are partitioned by month (``moviepipe/sql/007_partitions.sql``): before
the batch's transaction, :func:`ensure_months` creates the months the batch touches (and
``months_ahead`` more) in a short transaction of its own, only for months this process
has not seen yet, so the lock that creating a partition takes on its table stays rare
and brief.

Usage::

    with db.connect(settings, "loader") as conn:
        result = write_batch(conn, valid_arrow, rejected_df, table="raw.user_events",
                             run_id=run_id, source_flag="spark",
                             sink="spark.user_events", batch_id=7)
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql

from moviepipe.events import REJECTED_COLUMNS, VALID_COLUMNS
from moviepipe.partitions import PARTITION_KEYS, add_months, month_start
from moviepipe.tunables import PartitionTunables

TABLES = ("raw.user_events", "raw.user_events_fallback")
# The idempotency key of the event tables; it holds the partition key (event_ts), and the
# same event_id always carries the same event_ts.
EVENT_KEY = ("event_id", "event_ts")
REJECTED_TABLE = "raw.user_events_rejected"
MONTHS_AHEAD = PartitionTunables().months_ahead
# Months known to exist, per database and table: this process never asks twice. A month
# dropped by retention meanwhile is harmless: its rows go to the table's default partition.
_known_months: dict[tuple[str, str], set[datetime]] = {}


@dataclass(frozen=True)
class BatchResult:
    rows_in: int
    rows_landed: int
    rows_rejected: int
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _table(name: str) -> sql.Composable:
    if name not in TABLES:
        raise ValueError(f"not an event table: {name}")
    return sql.Identifier(*name.split("."))


def months_of(stamps: pa.ChunkedArray | pa.Array | pd.Series) -> set[datetime]:
    """The UTC months that ``stamps`` (timestamps, nulls ignored) fall in."""
    if isinstance(stamps, pd.Series) or not pa.types.is_timestamp(stamps.type):
        series = pd.to_datetime(pd.Series(stamps), utc=True).dropna()
        return {month_start(t) for t in series.dt.tz_localize(None).dt.to_period("M").dt.start_time}
    # A zoned timestamp is floored in its own zone: these are UTC (or naive, read as UTC).
    floors = pc.unique(pc.floor_temporal(stamps, unit="month")).drop_null()
    return {month_start(t) for t in floors.to_pylist()}


def ensure_months(
    conn: psycopg.Connection,
    table: str,
    months: Iterable[datetime],
    months_ahead: int = MONTHS_AHEAD,
    now: datetime | None = None,
) -> int:
    """Make sure ``table`` has the partitions of ``months`` and of this month and the
    ``months_ahead`` after it; returns how many were created.

    Only months this process has not seen are asked for, in one short transaction of
    their own (committed before the caller's batch begins, on an idle connection): creating
    a partition locks its whole table for a moment. A month that cannot be created within
    the lock timeout (a long reader) is not fatal: its rows go to the default partition,
    and the next batch asks again.
    """
    if table not in PARTITION_KEYS:
        raise ValueError(f"not a partitioned event table: {table}")
    this = month_start(now or datetime.now(UTC))
    wanted = set(months) | {add_months(this, i) for i in range(months_ahead + 1)}
    info = conn.info
    known = _known_months.setdefault((f"{info.host}:{info.port}/{info.dbname}", table), set())
    missing = sorted(wanted - known)
    if not missing:
        return 0
    created = 0
    try:
        with conn.transaction():
            conn.execute("set local lock_timeout = '2s'")
            for month in missing:
                created += conn.execute(
                    "select raw.ensure_month_partitions(%s::regclass, %s, %s)",
                    (table, month, month),
                ).fetchone()[0]
    except psycopg.errors.LockNotAvailable:
        return 0
    known.update(missing)
    return created


def _ensure_stage(conn: psycopg.Connection) -> None:
    # Temporary, no constraints, emptied at commit: a killed writer leaves nothing behind.
    conn.execute(
        "create temp table if not exists stage_user_events on commit delete rows"
        " as select * from raw.user_events with no data"
    )


def to_arrow(valid: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(valid, pd.DataFrame):
        valid = pa.Table.from_pandas(valid[list(VALID_COLUMNS)], preserve_index=False)
    return valid.select(list(VALID_COLUMNS))


def copy_rows(cur: psycopg.Cursor, target: sql.Composable, rows: pa.Table) -> None:
    """COPY ``rows`` as CSV, encoded a slice at a time: the server parses one slice
    while the next is encoded, and the whole batch is never held twice in memory."""
    names = sql.SQL(", ").join(sql.Identifier(c) for c in rows.column_names)
    options = pacsv.WriteOptions(include_header=False, batch_size=8192)
    with cur.copy(sql.SQL("copy {} ({}) from stdin (format csv)").format(target, names)) as cp:
        for part in rows.to_batches(max_chunksize=16384):
            buf = io.BytesIO()
            pacsv.write_csv(part, buf, options)
            cp.write(buf.getbuffer())


def _constant(value: str, n: int) -> pa.DictionaryArray:
    # One dictionary entry and n zero indices: no per-row Python string.
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value]))


def _event_key() -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in EVENT_KEY)


def copy_valid(
    conn: psycopg.Connection, valid: pa.Table, table: str, run_id: str, source_flag: str
) -> int:
    """Land ``valid`` in ``table``, skipping event ids already there; returns rows inserted.

    Fast path: one COPY straight into the table inside a savepoint, which is all a
    batch of new events needs (about half the work of a stage and a merge). An
    ``event_id`` already in the table (a replay, or the front end sending an event
    twice) rolls the savepoint back, and the batch goes the slow way: COPY into a
    temporary stage, then ``insert ... on conflict (event_id, event_ts) do nothing``.
    The months of ``valid`` must exist (:func:`ensure_months`), or its rows land in the
    table's default partition.
    """
    if valid.num_rows == 0:
        return 0
    n = valid.num_rows
    direct = valid.append_column("run_id", _constant(run_id, n)).append_column(
        "source_flag", _constant(source_flag, n)
    )
    with conn.cursor() as cur:
        if pc.count_distinct(valid.column("event_id")).as_py() == n:
            try:
                with conn.transaction():
                    copy_rows(cur, _table(table), direct)
                return n
            except psycopg.errors.UniqueViolation:
                pass  # rolled back to the savepoint: merge instead
        _ensure_stage(conn)
        copy_rows(cur, sql.Identifier("stage_user_events"), valid)
        # The audit columns are one value per batch: set in the merge, not written per row.
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in valid.column_names)
        cur.execute(
            sql.SQL(
                "insert into {table} ({cols}, run_id, source_flag)"
                " select {cols}, %s, %s from stage_user_events"
                " on conflict ({key}) do nothing"
            ).format(table=_table(table), cols=cols, key=_event_key()),
            (run_id, source_flag),
        )
        landed = cur.rowcount
        cur.execute("truncate stage_user_events")
    return landed


def _stamped(rejected: pd.DataFrame) -> pd.DataFrame:
    # kafka_timestamp is the dead letters' partition key (not null): a message without
    # a broker timestamp is stamped with the time it was rejected.
    stamps = pd.to_datetime(rejected["kafka_timestamp"], utc=True)
    if not stamps.isna().any():
        return rejected
    return rejected.assign(kafka_timestamp=stamps.fillna(pd.Timestamp.now(tz="UTC")))


def _ensure_rejected_stage(conn: psycopg.Connection) -> None:
    conn.execute(
        "create temp table if not exists stage_user_events_rejected on commit delete rows"
        " as select {} from raw.user_events_rejected with no data".format(
            ", ".join(REJECTED_COLUMNS)
        )
    )


def insert_rejected(
    conn: psycopg.Connection, rejected: pd.DataFrame, run_id: str, source_flag: str
) -> int:
    """Dead letters not there yet (idempotent on their coordinates); returns rows inserted.

    COPY into a temporary stage and one ``insert ... on conflict do nothing``: a storm of
    bad messages costs a set-based statement, not one round trip a row."""
    if rejected.empty:
        return 0
    rejected = _stamped(rejected)
    frame = rejected[list(REJECTED_COLUMNS)].astype(object).where(rejected.notna(), None)
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in REJECTED_COLUMNS)
    _ensure_rejected_stage(conn)
    with conn.cursor() as cur:
        with cur.copy(
            sql.SQL("copy stage_user_events_rejected ({}) from stdin").format(cols)
        ) as cp:
            for row in frame.itertuples(index=False, name=None):
                cp.write_row(row)
        cur.execute(
            sql.SQL(
                "insert into raw.user_events_rejected ({cols}, run_id, source_flag)"
                " select {cols}, %s, %s from stage_user_events_rejected on conflict do nothing"
            ).format(cols=cols),
            (run_id, source_flag),
        )
        inserted = cur.rowcount
        cur.execute("truncate stage_user_events_rejected")
    return inserted


# Where a claim goes: a whole batch (the driver, the fallback), or one Spark task's share
# of a batch, keyed by the Kafka offset ranges it holds (streaming/land_task.py).
_CLAIMS = {
    False: ("ops.stream_batches", "sink, batch_id", "%s, %s"),
    True: ("ops.stream_batch_tasks", "sink, batch_id, offset_ranges", "%s, %s, %s"),
}


def claim_batch(
    conn: psycopg.Connection,
    sink: str,
    batch_id: int,
    rows_in: int,
    offset_ranges: str | None = None,
) -> bool:
    """Claim ``(sink, batch_id)`` in ``ops.stream_batches`` (with ``offset_ranges``, a task's
    share in ``ops.stream_batch_tasks``); False if a writer already did.

    Called inside the batch's transaction, so the claim commits with the rows or not at all."""
    table, key, marks = _CLAIMS[offset_ranges is not None]
    params = (sink, batch_id) if offset_ranges is None else (sink, batch_id, offset_ranges)
    return bool(
        conn.execute(
            f"insert into {table} ({key}, rows_in, rows_landed, rows_rejected)"
            f" values ({marks}, %s, 0, 0) on conflict do nothing",
            (*params, rows_in),
        ).rowcount
    )


def record_batch(
    conn: psycopg.Connection,
    sink: str,
    batch_id: int,
    landed: int,
    rejected: int,
    offset_ranges: str | None = None,
) -> None:
    table, _, _ = _CLAIMS[offset_ranges is not None]
    where, params = "sink = %s and batch_id = %s", [sink, batch_id]
    if offset_ranges is not None:
        where, params = where + " and offset_ranges = %s", [*params, offset_ranges]
    conn.execute(
        f"update {table} set rows_landed = %s, rows_rejected = %s where {where}",
        (landed, rejected, *params),
    )


def write_batch(
    conn: psycopg.Connection,
    valid: pa.Table | pd.DataFrame,
    rejected: pd.DataFrame,
    *,
    table: str,
    run_id: str,
    source_flag: str,
    sink: str | None = None,
    batch_id: int | None = None,
    months_ahead: int = MONTHS_AHEAD,
    offset_ranges: str | None = None,
) -> BatchResult:
    """Land one batch in one transaction; with ``sink``, a replayed ``batch_id`` is a no-op
    (with ``offset_ranges`` too, the claim is a Spark task's: :func:`claim_batch`).

    The batch's months (and ``months_ahead`` more) are created first, outside it."""
    valid = to_arrow(valid)
    rows_in = valid.num_rows + len(rejected)
    if valid.num_rows:
        ensure_months(conn, table, months_of(valid.column("event_ts")), months_ahead)
    if not rejected.empty:
        rejected = _stamped(rejected)
        ensure_months(conn, REJECTED_TABLE, months_of(rejected["kafka_timestamp"]), months_ahead)
    with conn.transaction():
        # Claim the batch first: a concurrent or replayed writer finds the row and stops.
        if sink is not None and not claim_batch(conn, sink, batch_id, rows_in, offset_ranges):
            return BatchResult(rows_in, 0, 0, replayed=True)
        landed = copy_valid(conn, valid, table, run_id, source_flag)
        n_rejected = insert_rejected(conn, rejected, run_id, source_flag)
        if sink is not None:
            record_batch(conn, sink, batch_id, landed, n_rejected, offset_ranges)
    return BatchResult(rows_in, landed, n_rejected)


def heartbeat(
    conn: psycopg.Connection, sink: str, batch_id: int | None, result: BatchResult, lag: int | None
) -> None:
    with conn.transaction():
        conn.execute(
            "insert into ops.stream_heartbeat"
            " (sink, batch_id, rows_in, rows_landed, rows_rejected, lag)"
            " values (%s, %s, %s, %s, %s, %s)",
            (sink, batch_id, result.rows_in, result.rows_landed, result.rows_rejected, lag),
        )
