"""PostgreSQL side of the event pipeline: one batch, one transaction, exactly once.

``write_batch`` lands a validated batch: valid rows go by COPY into a temporary
stage and one set-based ``insert ... on conflict (event_id) do nothing``;
rejected rows into raw.user_events_rejected (idempotent on their coordinates);
and, for streaming sinks, the ``(sink, batch_id)`` row of ``ops.stream_batches``
is claimed first in the same transaction, so a replayed batch changes nothing.

Usage::

    with db.connect(settings, "loader") as conn:
        result = write_batch(conn, valid_arrow, rejected_df, table="raw.user_events",
                             run_id=run_id, source_flag="spark",
                             sink="spark.user_events", batch_id=7)
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql

from moviepipe.events import REJECTED_COLUMNS, VALID_COLUMNS

TABLES = ("raw.user_events", "raw.user_events_fallback")


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


def _copy(cur: psycopg.Cursor, target: sql.Composable, rows: pa.Table) -> None:
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


def copy_valid(
    conn: psycopg.Connection, valid: pa.Table, table: str, run_id: str, source_flag: str
) -> int:
    """Land ``valid`` in ``table``, skipping event ids already there; returns rows inserted.

    Fast path: one COPY straight into the table inside a savepoint, which is all a
    batch of new events needs (about half the work of a stage and a merge). An
    ``event_id`` already in the table (a replay, or the front end sending an event
    twice) rolls the savepoint back, and the batch goes the slow way: COPY into a
    temporary stage, then ``insert ... on conflict (event_id) do nothing``.
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
                    _copy(cur, _table(table), direct)
                return n
            except psycopg.errors.UniqueViolation:
                pass  # rolled back to the savepoint: merge instead
        _ensure_stage(conn)
        _copy(cur, sql.Identifier("stage_user_events"), valid)
        # The audit columns are one value per batch: set in the merge, not written per row.
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in valid.column_names)
        cur.execute(
            sql.SQL(
                "insert into {table} ({cols}, run_id, source_flag)"
                " select {cols}, %s, %s from stage_user_events"
                " on conflict (event_id) do nothing"
            ).format(table=_table(table), cols=cols),
            (run_id, source_flag),
        )
        landed = cur.rowcount
        cur.execute("truncate stage_user_events")
    return landed


def insert_rejected(
    conn: psycopg.Connection, rejected: pd.DataFrame, run_id: str, source_flag: str
) -> int:
    if rejected.empty:
        return 0
    frame = rejected[list(REJECTED_COLUMNS)].astype(object).where(rejected.notna(), None)
    rows = [(*r, run_id, source_flag) for r in frame.itertuples(index=False, name=None)]
    cols = sql.SQL(", ").join(
        sql.Identifier(c) for c in (*REJECTED_COLUMNS, "run_id", "source_flag")
    )
    marks = sql.SQL(", ").join(sql.Placeholder() * (len(REJECTED_COLUMNS) + 2))
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL(
                "insert into raw.user_events_rejected ({}) values ({}) on conflict do nothing"
            ).format(cols, marks),
            rows,
        )
    return len(rows)


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
) -> BatchResult:
    """Land one batch in one transaction; with ``sink``, a replayed ``batch_id`` is a no-op."""
    valid = to_arrow(valid)
    rows_in = valid.num_rows + len(rejected)
    with conn.transaction():
        if sink is not None:
            # Claim the batch first: a concurrent or replayed writer finds the row and stops.
            claimed = conn.execute(
                "insert into ops.stream_batches"
                " (sink, batch_id, rows_in, rows_landed, rows_rejected)"
                " values (%s, %s, %s, 0, 0) on conflict do nothing",
                (sink, batch_id, rows_in),
            ).rowcount
            if not claimed:
                return BatchResult(rows_in, 0, 0, replayed=True)
        landed = copy_valid(conn, valid, table, run_id, source_flag)
        n_rejected = insert_rejected(conn, rejected, run_id, source_flag)
        if sink is not None:
            conn.execute(
                "update ops.stream_batches set rows_landed = %s, rows_rejected = %s"
                " where sink = %s and batch_id = %s",
                (landed, n_rejected, sink, batch_id),
            )
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
