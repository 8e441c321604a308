"""pandas fallback, promotion, MongoDB backup and reconciliation against the real services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from moviepipe import db
from moviepipe.services import mongo
from streaming.backup import run_backup
from streaming.fallback import promote_fallback, run_fallback
from streaming.producer import produce
from streaming.reconcile import reconcile
from streaming.sources import simulate_events
from tests.streaming.conftest import drop_topics, fresh_topics, live_bad_messages

pytestmark = pytest.mark.integration

N_VALID = 1500


@pytest.fixture(scope="module")
def scenario(stream_settings, rules):
    settings = fresh_topics(stream_settings)
    valid = list(simulate_events(N_VALID, seed=9, start=datetime(2024, 5, 2, tzinfo=UTC)))
    bad = live_bad_messages(settings.moviepipe_topic_prefix)
    summary = produce(
        settings, rules, [*valid[:700], *[(t, b"k", v) for t, v, _ in bad], *valid[700:]]
    )
    assert summary["failed"] == 0
    # chunks far smaller than the backlog: several transactions and offset commits
    run = run_fallback(settings, rules, available_now=True, chunk_size=400)
    yield {"settings": settings, "valid": valid, "bad": bad, "run": run}
    drop_topics(settings)


def _count(settings, sql: str, *args) -> int:
    with db.connect(settings, "loader") as conn:
        return conn.execute(sql, args).fetchone()[0]


def test_fallback_lands_every_message_once(scenario):
    settings, run = scenario["settings"], scenario["run"]
    assert run["chunks"] >= 4
    assert run["landed"] == N_VALID
    assert run["rejected"] == len(scenario["bad"])
    rows = _count(
        settings,
        "select count(distinct event_id) from raw.user_events_fallback"
        " where run_id = %s and source_flag = 'pandas'",
        run["run_id"],
    )
    assert rows == N_VALID
    dead = _count(
        settings,
        "select count(*) from raw.user_events_rejected"
        " where run_id = %s and source_flag = 'pandas'",
        run["run_id"],
    )
    assert dead == len(scenario["bad"])
    # never merged automatically
    assert (
        _count(settings, "select count(*) from raw.user_events where run_id = %s", run["run_id"])
        == 0
    )


def test_fallback_rerun_finds_offsets_committed(scenario, rules):
    again = run_fallback(scenario["settings"], rules, available_now=True, chunk_size=400)
    assert again["rows_in"] == 0


def test_promote_twice_no_duplicates(scenario):
    settings, run_id = scenario["settings"], scenario["run"]["run_id"]
    first = promote_fallback(settings, run_id, promoted_by="tester")
    second = promote_fallback(settings, run_id)
    assert (first["rows_promoted"], first["rows_skipped"]) == (N_VALID, 0)
    assert (second["rows_promoted"], second["rows_skipped"]) == (0, N_VALID)
    landed = _count(
        settings,
        "select count(*) from raw.user_events where run_id = %s and source_flag = 'pandas'",
        run_id,
    )
    assert landed == N_VALID
    with db.connect(settings, "loader") as conn:
        log = conn.execute(
            "select promoted_by, rows_promoted, rows_skipped from ops.fallback_promotions"
            " where fallback_run_id = %s order by promotion_id",
            (run_id,),
        ).fetchall()
    assert log[0] == ("tester", N_VALID, 0)
    assert log[1][1:] == (0, N_VALID) and log[1][0]


def test_promote_unknown_run_fails(scenario):
    with pytest.raises(LookupError):
        promote_fallback(scenario["settings"], "fallback-does-not-exist")


def test_backup_and_reconciliation_find_a_deleted_row(scenario, rules, mongo_db_name):
    settings = scenario["settings"]
    totals = run_backup(settings, rules, available_now=True, database=mongo_db_name)
    n_comments = sum(e["event_type"] == "comment" for e in scenario["valid"])
    assert totals["messages"] == N_VALID + len(scenario["bad"])
    assert totals["invalid"] == len(scenario["bad"])
    with mongo.client(settings) as mc:
        logs = mc[mongo_db_name]["user_logs"]
        assert logs.count_documents({}) == totals["messages"]
        # comment events, valid or not, also go to raw.comments
        bad_comments = sum(
            b'"event_type": "comment"' in (v or b"")
            and reason != "oversize"  # oversize: bytes only
            for _, v, reason in scenario["bad"]
        )
        assert bad_comments
        assert mc[mongo_db_name]["comments"].count_documents({}) == n_comments + bad_comments
        doc = logs.find_one({"valid": True})
        assert doc["_id"] == f"{doc['topic']}:{doc['partition']:05d}:{doc['offset']:020d}"
        assert "event_id" in doc["event"]
        assert logs.count_documents({"raw_value_b64": {"$exists": True}}) >= 3  # not JSON/UTF-8

    report = reconcile(settings, database=mongo_db_name)
    assert report["ok"], report
    assert report["backup_events"] == N_VALID

    victim = scenario["valid"][123]["event_id"]
    with db.connect(settings, "loader") as conn:
        conn.execute("delete from raw.user_events where event_id = %s", (victim,))
    report = reconcile(settings, database=mongo_db_name)
    assert report["missing_from_user_events"] == 1
    assert report["missing_from_user_events_sample"] == [victim]
    assert report["pending_promotion_sample"] == [victim]  # still in the fallback table
    assert report["ok"]

    with db.connect(settings, "loader") as conn:
        conn.execute("delete from raw.user_events_fallback where event_id = %s", (victim,))
    report = reconcile(settings, database=mongo_db_name)
    assert not report["ok"]
    assert report["lost_sample"] == [victim]
