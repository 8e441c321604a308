"""Monthly partitions of the event tables (moviepipe/sql/007_partitions.sql, streaming.sink):
routing, months created on demand and ahead, exactly-once landing across a month boundary,
and the migration of tables that already hold rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from moviepipe import db
from moviepipe.partitions import add_months, month_start
from streaming import sink
from tests.conftest import fresh_database
from tests.moviepipe.partition_helpers import children, no_rejects, rejected_batch, valid_batch

BOUNDARY = [
    datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2025, 2, 1, 0, 0, 0, tzinfo=UTC),
    datetime(2025, 2, 1, 0, 0, 1, tzinfo=UTC),
]


@pytest.fixture(scope="module")
def part_settings(stack):
    with fresh_database(stack, "mp_part") as settings:
        yield settings


def _land(conn, valid, rejected, run_id: str, batch_id: int | None = None):
    return sink.write_batch(
        conn, valid, rejected, table="raw.user_events", run_id=run_id, source_flag="spark",
        sink=None if batch_id is None else f"test.{run_id}", batch_id=batch_id,
    )  # fmt: skip


def _partitions(conn, table: str) -> set[str]:
    return {
        r[0]
        for r in conn.execute(
            "select inhrelid::regclass::text from pg_inherits where inhparent = %s::regclass",
            (table,),
        )
    }


def test_rows_land_in_their_months_partition_created_on_demand_and_ahead(part_settings):
    run_id = f"route-{uuid.uuid4().hex[:6]}"
    with db.connect(part_settings, "loader") as conn:
        assert "raw.user_events_p202501" not in _partitions(conn, "raw.user_events")
        stamps = [*BOUNDARY, datetime(2025, 1, 1, tzinfo=UTC)]
        rejects = rejected_batch([BOUNDARY[0], None])
        result = _land(conn, valid_batch(stamps), rejects, run_id)
        assert (result.rows_landed, result.rows_rejected) == (4, 2)
        assert children(conn, "raw.user_events", "run_id = %s", (run_id,)) == {
            "raw.user_events_p202501": 2,
            "raw.user_events_p202502": 2,
        }
        # A reject without a broker timestamp is stamped when rejected: this month.
        this_month = f"raw.user_events_rejected_p{datetime.now(UTC):%Y%m}"
        assert children(conn, "raw.user_events_rejected", "run_id = %s", (run_id,)) == {
            "raw.user_events_rejected_p202501": 1,
            this_month: 1,
        }
        ahead = add_months(month_start(datetime.now(UTC)), sink.MONTHS_AHEAD)
        assert f"raw.user_events_p{ahead:%Y%m}" in _partitions(conn, "raw.user_events")
        assert children(conn, "raw.user_events_default") == {}


def test_months_ahead_follow_the_argument_and_the_cache_skips_known_months(part_settings):
    with db.connect(part_settings, "loader") as conn:
        now = datetime(2031, 5, 17, tzinfo=UTC)
        created = sink.ensure_months(conn, "raw.user_events_fallback", [], 2, now=now)
        assert created == 3
        assert {"raw.user_events_fallback_p203105", "raw.user_events_fallback_p203107"} <= (
            _partitions(conn, "raw.user_events_fallback")
        )
        assert sink.ensure_months(conn, "raw.user_events_fallback", [], 2, now=now) == 0


def test_a_batch_across_a_month_boundary_lands_exactly_once(part_settings):
    run_id = f"once-{uuid.uuid4().hex[:6]}"
    batch = valid_batch(BOUNDARY * 2)  # 6 events, two per instant
    with db.connect(part_settings, "loader") as conn:
        first = _land(conn, batch, no_rejects(), run_id, batch_id=1)
        again = _land(conn, batch, no_rejects(), run_id, batch_id=1)
        replay = _land(conn, batch, no_rejects(), run_id, batch_id=2)  # the same events
        mixed = valid_batch([*BOUNDARY, datetime(2025, 3, 1, tzinfo=UTC)])
        mixed = mixed.assign(event_id=[*batch["event_id"][:3], str(uuid.uuid4())])
        merged = _land(conn, mixed, no_rejects(), run_id, batch_id=3)
        (n, distinct) = conn.execute(
            "select count(*), count(distinct event_id) from raw.user_events where run_id = %s",
            (run_id,),
        ).fetchone()
    assert first.rows_landed == 6 and again.replayed and again.rows_landed == 0
    assert replay.rows_landed == 0 and not replay.replayed
    assert merged.rows_landed == 1
    assert n == distinct == 7


def test_rows_of_a_month_without_partition_wait_in_the_default_then_move(part_settings):
    event = valid_batch([datetime(2019, 6, 3, tzinfo=UTC)])
    with db.connect(part_settings, "loader") as conn:
        # Straight SQL, as a test fixture or a backfill would: no ensure_months.
        conn.execute(
            "insert into raw.user_events (event_id, event_type, event_ts, user_id, payload,"
            " run_id) values (%s, 'watch', %s, 'u1', '{}', 'direct')",
            (event["event_id"][0], event["event_ts"][0]),
        )
        conn.commit()
        assert children(conn, "raw.user_events", "run_id = 'direct'") == {
            "raw.user_events_default": 1
        }
        assert sink.ensure_months(conn, "raw.user_events", sink.months_of(event["event_ts"])) == 1
        assert children(conn, "raw.user_events", "run_id = 'direct'") == {
            "raw.user_events_p201906": 1
        }


def test_the_migration_converts_tables_holding_rows_and_keeps_every_one(stack, monkeypatch):
    before = [m for m in db.migrations() if m[0] < "007"]
    with monkeypatch.context() as m:
        m.setattr(db, "migrations", lambda: before)
        name = f"mp_part_mig_{uuid.uuid4().hex[:6]}"
        settings = stack.model_copy(update={"pgdatabase": name})
        db.bootstrap(settings, name)
    try:
        with db.connect(settings, "loader") as conn:
            for table in ("raw.user_events", "raw.user_events_fallback"):
                batch = valid_batch([*BOUNDARY, datetime(2024, 12, 5, tzinfo=UTC)])
                conn.execute(
                    f"insert into {table} (event_id, event_type, event_ts, user_id, payload,"
                    " run_id) select unnest(%s::uuid[]), 'watch', unnest(%s::timestamptz[]),"
                    " 'u1', '{}', 'old'",
                    (list(batch["event_id"]), list(batch["event_ts"])),
                )
            conn.execute(
                "insert into raw.user_events_rejected (kafka_topic, kafka_partition, kafka_offset,"
                " kafka_timestamp, reason, run_id, source_flag, rejected_at) values"
                " ('t', 0, 1, '2025-01-10Z', 'r', 'old', 'spark', now()),"
                " ('t', 0, 2, null, 'r', 'old', 'spark', '2024-11-02Z')"
            )
        # 007 and whatever came after it
        assert db.bootstrap(settings, name) == [m[0] for m in db.migrations() if m[0] >= "007"]
        assert db.bootstrap(settings, name) == []  # re-running is a no-op
        with db.connect(settings, "loader") as conn:
            for table in ("raw.user_events", "raw.user_events_fallback"):
                assert children(conn, table) == {
                    f"{table}_p202412": 1, f"{table}_p202501": 1, f"{table}_p202502": 2
                }  # fmt: skip
            assert children(conn, "raw.user_events_rejected") == {
                "raw.user_events_rejected_p202411": 1,
                "raw.user_events_rejected_p202501": 1,
            }
            kinds = conn.execute(
                "select relname, relkind from pg_class where relname in"
                " ('user_events', 'user_events_fallback', 'user_events_rejected')"
            ).fetchall()
            assert {k for _, k in kinds} == {"p"} and len(kinds) == 3
            key = conn.execute(
                "select pg_get_constraintdef(oid) from pg_constraint"
                " where conrelid = 'raw.user_events'::regclass and contype = 'p'"
            ).fetchone()[0]
            assert key == "PRIMARY KEY (event_id, event_ts)"
            # The loader still lands, and the identity goes on after the copied ids.
            assert _land(conn, valid_batch(BOUNDARY), rejected_batch([BOUNDARY[0]]), "new")
            ids = [r[0] for r in conn.execute("select rejected_id from raw.user_events_rejected")]
            assert sorted(ids) == [1, 2, 3]
        with db.connect(settings, "transformer") as conn:
            assert conn.execute("select count(*) from raw.user_events").fetchone()[0] == 7
    finally:
        db.drop_database(stack, name)
