"""``moviepipe retention apply``: drops (or archives) only the event partitions entirely
older than N months, records each in ops.retention_log, and a re-run is a no-op."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from commands.app import main
from moviepipe import db, retention
from streaming import sink
from tests.conftest import fresh_database
from tests.moviepipe.partition_helpers import children, rejected_batch, valid_batch

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
# Events in Oct 2026 .. Dec 2026 and in Jan 2025: with 2 months kept, the cutoff is
# 2026-10-01, so only Jan 2025 and the months before October 2026 go.
STAMPS = [
    datetime(2025, 1, 15, tzinfo=UTC),
    datetime(2026, 9, 30, 23, 59, tzinfo=UTC),
    datetime(2026, 10, 1, tzinfo=UTC),
    datetime(2026, 12, 2, tzinfo=UTC),
]


@pytest.fixture(scope="module")
def ret_settings(stack):
    with fresh_database(stack, "mp_ret") as settings:
        with db.connect(settings, "loader") as conn:
            sink.write_batch(
                conn, valid_batch(STAMPS), rejected_batch(STAMPS), table="raw.user_events",
                run_id="old", source_flag="spark",
            )  # fmt: skip
        yield settings


def _log(settings) -> list[tuple]:
    with db.connect(settings) as conn:
        return conn.execute(
            "select partition_name, row_count, action, archive_path from ops.retention_log"
            " order by partition_name"
        ).fetchall()


def test_the_cutoff_counts_whole_months_back_from_this_one():
    assert retention.cutoff(NOW, 2) == datetime(2026, 10, 1, tzinfo=UTC)
    assert retention.cutoff(NOW, 12) == datetime(2025, 12, 1, tzinfo=UTC)
    assert retention.month_bounds("raw.user_events_p202402") == (
        "raw.user_events",
        datetime(2024, 2, 1, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
    )


def test_dry_run_then_archive_then_a_rerun(ret_settings, tmp_path):
    with db.connect(ret_settings, "admin", autocommit=True) as conn:
        plan = retention.apply(conn, 2, "r0", dry_run=True, now=NOW)
        assert children(conn, "raw.user_events") == {
            "raw.user_events_p202501": 1,
            "raw.user_events_p202609": 1,
            "raw.user_events_p202610": 1,
            "raw.user_events_p202612": 1,
        }
        gone = {p["name"] for p in plan}
        assert gone == {
            f"raw.{t}_p{m}"
            for t in ("user_events", "user_events_rejected")
            for m in ("202501", "202609")
        }
        assert _log(ret_settings) == []

        done = retention.apply(conn, 2, "r1", archive_dir=tmp_path, now=NOW)
        assert {a["name"] for a in done} == gone and {a["rows"] for a in done} == {1}
        assert set(children(conn, "raw.user_events")) == {
            "raw.user_events_p202610",
            "raw.user_events_p202612",
        }
        assert retention.apply(conn, 2, "r2", archive_dir=tmp_path, now=NOW) == []
    log = _log(ret_settings)
    assert [(r[0], r[1], r[2]) for r in log] == [(n, 1, "archived") for n in sorted(gone)]
    with gzip.open(tmp_path / "raw.user_events_p202609.csv.gz", "rt") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    assert [r["event_ts"][:16] for r in rows] == ["2026-09-30 23:59"]
    assert not list(tmp_path.glob("*.tmp"))


def test_a_partition_left_detached_by_a_killed_run_is_finished_next_time(ret_settings):
    with db.connect(ret_settings, "loader") as conn:
        sink.ensure_months(conn, "raw.user_events_fallback", [datetime(2020, 3, 1, tzinfo=UTC)])
    with db.connect(ret_settings, "admin", autocommit=True) as conn:
        # What a run killed between its two transactions leaves behind.
        conn.execute("alter table raw.user_events_fallback detach partition"
                     " raw.user_events_fallback_p202003")  # fmt: skip
        (done,) = [
            a for a in retention.apply(conn, 2, "r3", now=NOW) if "fallback_p2020" in a["name"]
        ]
        assert (done["action"], done["rows"], done["attached"]) == ("dropped", 0, False)
        gone = conn.execute("select to_regclass('raw.user_events_fallback_p202003')").fetchone()
        assert gone == (None,)


def test_the_command_logs_its_run_and_prints_what_it_would_drop(ret_settings):
    result = CliRunner().invoke(
        main,
        ["retention", "apply", "--months", "1", "--dry-run"],
        env={"PGDATABASE": ret_settings.pgdatabase},
    )
    assert result.exit_code == 0, result.output
    assert "would drop" in result.output
    with db.connect(ret_settings) as conn:
        status, summary = conn.execute(
            "select status, summary from ops.run_log where step = 'retention apply'"
        ).fetchone()
    assert status == "succeeded" and summary["dry_run"] is True
