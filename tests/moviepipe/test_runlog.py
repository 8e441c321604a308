"""moviepipe.runlog against the real ops.run_log / ops.bookmarks tables."""

from __future__ import annotations

import psycopg
import pytest

from moviepipe import db, runlog

pytestmark = pytest.mark.integration


def _run_row(conn: psycopg.Connection, run_id: str) -> tuple:
    return conn.execute(
        "select step, status, args, summary, error, finished_at is not null"
        " from ops.run_log where run_id = %s",
        (run_id,),
    ).fetchone()


def test_new_run_ids_are_unique_and_carry_the_kind():
    ids = {runlog.new_run_id("unit") for _ in range(50)}
    assert len(ids) == 50
    assert all(i.startswith("unit-") for i in ids)


def test_start_then_finish_a_run(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        runlog.start_run(conn, run_id, "test step", {"n": 3})
        assert _run_row(conn, run_id) == ("test step", "running", {"n": 3}, {}, None, False)

        runlog.finish_run(conn, run_id, "succeeded", {"rows": 7})
        assert _run_row(conn, run_id) == (
            "test step",
            "succeeded",
            {"n": 3},
            {"rows": 7},
            None,
            True,
        )


@pytest.mark.parametrize("status", ["failed", "partial"])
def test_finish_records_status_and_error(pg_settings, status):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        runlog.start_run(conn, run_id, "test step", {})
        runlog.finish_run(conn, run_id, status, {"failed": 1}, "boom")
        _step, got, _, summary, error, finished = _run_row(conn, run_id)
    assert (got, summary, error, finished) == (status, {"failed": 1}, "boom", True)


def test_restarting_a_run_id_keeps_the_first_row(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        runlog.start_run(conn, run_id, "first", {"a": 1})
        runlog.finish_run(conn, run_id, "succeeded", {})
        runlog.start_run(conn, run_id, "second", {"a": 2})
        assert _run_row(conn, run_id)[:3] == ("first", "succeeded", {"a": 1})


def test_unknown_status_is_refused(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        runlog.start_run(conn, run_id, "test step", {})
        with pytest.raises(psycopg.errors.CheckViolation):
            runlog.finish_run(conn, run_id, "done", {})
        assert _run_row(conn, run_id)[1] == "running"


def test_start_run_survives_the_callers_rollback(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader") as conn:
        runlog.start_run(conn, run_id, "test step", {})
        conn.rollback()
    with db.connect(pg_settings, "loader") as conn:
        assert conn.execute(
            "select status from ops.run_log where run_id = %s", (run_id,)
        ).fetchone() == ("running",)


def test_bookmark_round_trip_and_overwrite(pg_settings):
    name = f"test.{runlog.new_run_id('bm')}"
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        assert runlog.get_bookmark(conn, name) is None

        runlog.set_bookmark(conn, name, "2026-11-01", "run-1")
        assert runlog.get_bookmark(conn, name) == "2026-11-01"

        runlog.set_bookmark(conn, name, "2026-11-02", "run-2")
        assert runlog.get_bookmark(conn, name) == "2026-11-02"
        rows = conn.execute(
            "select value, run_id from ops.bookmarks where name = %s", (name,)
        ).fetchall()
    assert rows == [("2026-11-02", "run-2")]


def test_bookmark_rolls_back_with_the_callers_transaction(pg_settings):
    name = f"test.{runlog.new_run_id('bm')}"
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        runlog.set_bookmark(conn, name, "1", None)
        with pytest.raises(RuntimeError), conn.transaction():
            runlog.set_bookmark(conn, name, "2", None)
            raise RuntimeError("batch failed")
        assert runlog.get_bookmark(conn, name) == "1"
