"""The incremental build touches only what changed and still equals a full rebuild.

A fresh warehouse gets the fixtures of ``tests.warehouse.fixtures`` (movies, events,
the MongoDB backup, the fallback) plus a few thousand simulated events landed as the
Spark sink lands them (``streaming.sink.write_batch``), and is built in full. Then new
events land: later ones, and late ones placed between and inside the sessions already
built and published (some bridge two sessions into one, the fixtures' late event
among them, one more only in the MongoDB backup). The plain incremental ``dbt build``
result is copied aside, a ``--full-refresh`` build made, and every gold table, with
silver ``user_events`` and ``sessions``, compared row for row both ways (EXCEPT).

Ignored in the comparison: ``_built_at`` only (the start of the run that last wrote
the row: it differs by design between the incremental and the full-refresh build).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from bench.scale_events import events_table
from moviepipe import db
from moviepipe.events import REJECTED_COLUMNS
from moviepipe.rules import load_rules
from streaming.sink import write_batch
from streaming.sources import simulate_events
from tests.warehouse import fixtures
from tests.warehouse.conftest import fresh_database, query, transform

pytestmark = pytest.mark.integration

HISTORY_START = datetime(2024, 2, 26, tzinfo=UTC)
SILVER = ("user_events", "sessions")
IGNORED = {"_built_at"}


def landed_now(table: pa.Table) -> pa.Table:
    """The batch without its landing time: raw's default (now()) stamps it, as in the sink."""
    return table.drop_columns(["ingested_at"])


def replaced(table: pa.Table, name: str, values) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, table.schema.field(i), pa.array(values, table.schema.field(i).type))


def late_copies(history: pa.Table, every: int, seed: int) -> pa.Table:
    """New events at the times of every ``every``-th event of the history's later 40 %
    plus 17-40 minutes: inside a session, just after one, or bridging two."""
    picked = history.take(list(range(history.num_rows * 3 // 5, history.num_rows, every)))
    n = picked.num_rows
    shift = pa.array([timedelta(minutes=17 + (seed + i * 7) % 24) for i in range(n)])
    ids = [f"00000000-0000-4000-8{seed:03d}-{i:012d}" for i in range(n)]
    late = replaced(picked, "event_id", ids)
    late = replaced(late, "event_ts", pc.add(picked.column("event_ts"), shift))
    return replaced(late, "kafka_offset", range(10_000_000, 10_000_000 + n))


def land(settings, table: pa.Table, batch_id: int) -> None:
    empty = pd.DataFrame(columns=list(REJECTED_COLUMNS))
    with db.connect(settings, "loader") as conn:
        result = write_batch(
            conn, landed_now(table), empty, table="raw.user_events", run_id=f"inc-{batch_id}",
            source_flag="spark", sink="test.incremental", batch_id=batch_id,
        )  # fmt: skip
    assert result.rows_landed == table.num_rows


def compared_tables(settings) -> list[tuple[str, str]]:
    rows = query(
        settings,
        "select table_name from information_schema.tables"
        " where table_schema = 'gold_build' and table_type = 'BASE TABLE' order by 1",
    )
    return [("gold_build", r["table_name"]) for r in rows] + [("silver", t) for t in SILVER]


def columns(settings, schema: str, table: str) -> list[str]:
    rows = query(
        settings,
        "select column_name from information_schema.columns"
        f" where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position",
    )
    return [r["column_name"] for r in rows if r["column_name"] not in IGNORED]


def difference(settings, left: str, right: str, cols: list[str]) -> list[dict]:
    listed = ", ".join(f'"{c}"' for c in cols)
    return query(settings, f"select {listed} from {left} except all select {listed} from {right}")


def test_incremental_build_equals_full_rebuild(stack):
    rules = load_rules()
    movie_ids = [m["id"] for m in fixtures.MOVIES]
    with fresh_database(stack, "inc") as settings:
        with db.connect(settings, "loader") as conn:
            fixtures.land_run1(conn)
        history = events_table(list(simulate_events(3000, 41, movie_ids, HISTORY_START,
                                                    users=40)), rules)  # fmt: skip
        land(settings, history, batch_id=1)
        transform(settings, publish=False)
        published = query(settings, "select count(*) as n from gold_build.dim_session")[0]["n"]

        later = events_table(list(simulate_events(300, 42, movie_ids, HISTORY_START
                                                  + timedelta(days=20), users=40)),
                             rules, first_offset=20_000)  # fmt: skip
        land(settings, later, batch_id=2)
        land(settings, late_copies(history, every=13, seed=1), batch_id=3)
        with db.connect(settings, "loader") as conn:
            fixtures.land_events(conn, "raw.user_events", [fixtures.LATE_EVENT], run_id="late")
        transform(settings, publish=False)

        latest = "(select max(_built_at) from silver.user_events)"
        built = query(
            settings, f"select count(*) as n from silver.user_events where _built_at = {latest}"
        )
        total = query(settings, "select count(*) as n from silver.user_events")[0]["n"]
        # the incremental run rewrote the new events and the sessions they changed, not all
        assert 300 < built[0]["n"] < total * 0.7, (built, total)

        tables = compared_tables(settings)
        with db.connect(settings, "admin") as conn:
            conn.execute("create schema incremental_copy")
            for schema, table in tables:
                conn.execute(
                    f"create table incremental_copy.{schema}__{table}"
                    f" as select * from {schema}.{table}"
                )
        transform(settings, "--full-refresh", publish=False)
        sessions = query(settings, "select count(*) as n from gold_build.dim_session")[0]["n"]
        assert sessions != published  # the new events changed the sessions

        compared = 0
        for schema, table in tables:
            copy = f"incremental_copy.{schema}__{table}"
            cols = columns(settings, schema, table)
            missing = difference(settings, f"{schema}.{table}", copy, cols)
            extra = difference(settings, copy, f"{schema}.{table}", cols)
            assert not missing and not extra, (table, missing[:3], extra[:3])
            compared += 1
        assert compared >= 20
