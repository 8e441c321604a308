"""moviepipe.runlog against the real ops.run_log / ops.bookmarks tables."""

from __future__ import annotations

import os
import signal

import psycopg
import pytest
from pydantic import SecretStr

from moviepipe import db, runlog

pytestmark = pytest.mark.integration


def _run_row(conn: psycopg.Connection, run_id: str) -> tuple:
    return conn.execute(
        "select step, status, args, summary, error, finished_at is not null"
        " from ops.run_log where run_id = %s",
        (run_id,),
    ).fetchone()


def _status(settings, run_id: str) -> tuple:
    """The row as another session sees it: committed, not merely written."""
    with db.connect(settings, "loader") as conn:
        return _run_row(conn, run_id)[1:]


def test_new_run_ids_are_unique_and_carry_the_kind():
    ids = {runlog.new_run_id("unit") for _ in range(50)}
    assert len(ids) == 50
    assert all(i.startswith("unit-") for i in ids)


def test_a_run_is_running_inside_the_block_and_succeeded_after(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        with runlog.run(conn, run_id, "test step", {"n": 3}) as run:
            assert _status(pg_settings, run_id) == ("running", {"n": 3}, {}, None, False)
            run.summary.update(rows=7)
        assert _run_row(conn, run_id) == (
            "test step",
            "succeeded",
            {"n": 3},
            {"rows": 7},
            None,
            True,
        )


def test_the_block_sets_a_final_status_and_a_summary(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        with runlog.run(conn, run_id, "test step") as run:
            run.summary = {"failed": 1}
            run.status = "partial"
        assert _run_row(conn, run_id)[1:] == ("partial", {}, {"failed": 1}, None, True)


def test_a_failure_is_logged_with_its_error_then_raised(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        with pytest.raises(ValueError, match="boom"), runlog.run(conn, run_id, "s") as run:
            run.summary["done"] = 2
            run.status = "partial"  # an exception overrides it: the run failed
            raise ValueError("boom")
        assert _run_row(conn, run_id)[1:] == ("failed", {}, {"done": 2}, "ValueError: boom", True)


def test_the_callers_error_text_wins(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        with pytest.raises(PermissionError), runlog.run(conn, run_id, "s") as run:
            run.error = "credentials rejected, run aborted"
            raise PermissionError(401)
        assert _run_row(conn, run_id)[4] == "credentials rejected, run aborted"


def test_keyboard_interrupt_is_logged_as_failed(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        with pytest.raises(KeyboardInterrupt), runlog.run(conn, run_id, "s"):
            raise KeyboardInterrupt
        assert _run_row(conn, run_id)[1:5] == ("failed", {}, {}, "KeyboardInterrupt")


def test_sigterm_is_logged_as_failed_and_exits_143(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        with pytest.raises(runlog.Terminated) as raised, runlog.run(conn, run_id, "s"):
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0)  # let the handler run here, not after the block
        assert raised.value.code == 143
        assert _run_row(conn, run_id)[1:5] == (
            "failed",
            {},
            {},
            "Terminated: terminated by SIGTERM",
        )
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored


def test_an_applications_sigterm_handler_is_left_alone(pg_settings):
    def stop(signum, frame):
        raise KeyboardInterrupt  # what streaming.cli installs: a clean stop

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with (
            db.connect(pg_settings, "loader", autocommit=True) as conn,
            runlog.run(conn, runlog.new_run_id("test"), "s"),
        ):
            assert signal.getsignal(signal.SIGTERM) is stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_secrets_never_reach_the_error_text(pg_settings):
    run_id = runlog.new_run_id("test")
    password = pg_settings.role_password("loader")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        with pytest.raises(RuntimeError), runlog.run(conn, run_id, "s", secrets=["tmdb-key-123"]):
            raise RuntimeError(
                f"pw {password}, key tmdb-key-123, GET /movie/1?api_key=abcdef&page=2,"
                " mongodb://user:hunter22@host/, Authorization: Bearer eyJ.tok"
            )
        error = _run_row(conn, run_id)[4]
    assert password not in error and "tmdb-key-123" not in error
    assert "abcdef" not in error and "hunter22" not in error and "eyJ.tok" not in error
    assert error == (
        "RuntimeError: pw ***, key ***, GET /movie/1?api_key=***&page=2,"
        " mongodb://user:***@host/, Authorization: Bearer ***"
    )


def test_mask_secrets_takes_settings_secrets(pg_settings):
    values = runlog.secret_values(pg_settings)
    assert pg_settings.role_password("loader") in values
    text = f"x {pg_settings.role_password('reader')} y"
    assert runlog.mask_secrets(text, values) == "x *** y"
    assert runlog.mask_secrets("token: abc.def, ok", [SecretStr("zzzz")]) == "token: ***, ok"


def test_a_long_error_is_cut(pg_settings):
    text = runlog.error_text(ValueError("x" * 5000))
    assert len(text) == runlog.MAX_ERROR_CHARS and text.startswith("ValueError: xxx")


def test_a_bookmark_moves_with_a_succeeded_finish_only(pg_settings):
    name = f"test.{runlog.new_run_id('bm')}"
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        for status in ("partial", "failed"):
            with runlog.run(conn, runlog.new_run_id("test"), "s") as run:
                run.on_success(lambda c: runlog.set_bookmark(c, name, "never", run.run_id))
                run.status = status
        with pytest.raises(ValueError), runlog.run(conn, runlog.new_run_id("test"), "s") as run:
            run.on_success(lambda c: runlog.set_bookmark(c, name, "never", run.run_id))
            raise ValueError("boom")
        assert runlog.get_bookmark(conn, name) is None

        run_id = runlog.new_run_id("test")
        with runlog.run(conn, run_id, "s") as run:
            run.on_success(lambda c: runlog.set_bookmark(c, name, "2026-11-22", run_id))
        assert runlog.get_bookmark(conn, name) == "2026-11-22"
        assert _run_row(conn, run_id)[1] == "succeeded"


def test_the_finish_and_the_bookmark_commit_together(pg_settings):
    """A bookmark that cannot be written undoes the succeeded finish: the run is failed."""
    name = f"test.{runlog.new_run_id('bm')}"
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:

        def move_then_fail(c: psycopg.Connection) -> None:
            runlog.set_bookmark(c, name, "2026-11-22", run_id)
            c.execute("select 1 / 0")

        with pytest.raises(psycopg.errors.DivisionByZero), runlog.run(conn, run_id, "s") as run:
            run.on_success(move_then_fail)
        assert runlog.get_bookmark(conn, name) is None
        status, error = _run_row(conn, run_id)[1], _run_row(conn, run_id)[4]
    assert status == "failed" and error.startswith("DivisionByZero: division by zero")


def test_restarting_a_run_id_keeps_the_first_row(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        with runlog.run(conn, run_id, "first", {"a": 1}):
            pass
        with runlog.run(conn, run_id, "second", {"a": 2}):
            assert _run_row(conn, run_id)[:3] == ("first", "succeeded", {"a": 1})


def test_unknown_status_is_refused_and_the_run_failed(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader", autocommit=True) as conn:
        with pytest.raises(psycopg.errors.CheckViolation), runlog.run(conn, run_id, "s") as run:
            run.status = "done"
        assert _run_row(conn, run_id)[1] == "failed"


def test_a_failure_in_the_callers_aborted_transaction_is_still_logged(pg_settings):
    run_id = runlog.new_run_id("test")
    with (
        pytest.raises(psycopg.errors.UndefinedTable),
        db.connect(pg_settings, "loader") as conn,
        runlog.run(conn, run_id, "s"),
    ):
        conn.execute("select * from no_such_table")
    assert _status(pg_settings, run_id)[0] == "failed"


def test_the_start_survives_the_callers_rollback(pg_settings):
    run_id = runlog.new_run_id("test")
    with db.connect(pg_settings, "loader") as conn, runlog.run(conn, run_id, "s"):
        assert _status(pg_settings, run_id)[0] == "running"
        conn.execute("select 1")
        conn.rollback()
    assert _status(pg_settings, run_id)[0] == "succeeded"


def test_a_connector_opens_a_connection_per_write(pg_settings):
    opened = []

    def connect() -> psycopg.Connection:
        opened.append(1)
        return db.connect(pg_settings, "loader")

    run_id = runlog.new_run_id("test")
    with runlog.run(connect, run_id, "s", {"k": 1}) as run:
        run.summary["rows"] = 1
    assert len(opened) == 2
    assert _status(pg_settings, run_id) == ("succeeded", {"k": 1}, {"rows": 1}, None, True)


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
