"""Reconciliation's report and summary (pure): a landing path that never ran is not compared."""

from __future__ import annotations

import json

import click
from click.testing import CliRunner

from moviepipe.cli_support import emit, json_option
from streaming.reconcile import Stores, compare, summary_lines

IDS = {f"e{i}" for i in range(5)}


def _stores(**kw) -> Stores:
    base = {
        "backup_ids": set(IDS),
        "backup_rejected": {("t", 0, 9)},
        "landed": set(IDS),
        "fallback": set(),
        "dead": {("t", 0, 9)},
        "land_ran": True,
        "fallback_ran": False,
    }
    return Stores(**{**base, **kw})


def test_a_fallback_that_never_ran_misses_nothing():
    report = compare(_stores())
    assert report["ok"]
    assert report["compared"] == {"user_events": True, "fallback": False}
    assert report["missing_from_fallback"] is None
    assert report["missing_from_fallback_sample"] is None
    assert report["missing_from_user_events"] == 0
    text = "\n".join(summary_lines(report))
    assert "missing" not in text
    assert "`stream fallback` never ran: not compared" in text
    assert "raw.user_events (5)" in text
    assert text.endswith("\nok")


def test_a_fallback_run_with_rows_is_compared_even_without_a_run_log_row():
    report = compare(_stores(fallback={"e1"}))
    assert report["compared"]["fallback"]
    assert report["missing_from_fallback"] == 4
    assert report["pending_promotion"] == 0


def test_spark_offline_only_the_fallback_ran():
    report = compare(_stores(landed=set(), fallback=set(IDS), land_ran=False, fallback_ran=True))
    assert report["ok"]
    assert report["missing_from_user_events"] is None
    assert report["pending_promotion"] == 5
    text = "\n".join(summary_lines(report))
    assert "`stream land` never ran: not compared" in text
    assert "5 events only in the fallback table: pending promotion" in text


def test_lost_and_undead_rejections_are_not_ok_and_named():
    report = compare(_stores(landed=IDS - {"e3"}, dead=set()))
    assert not report["ok"]
    assert (report["lost"], report["lost_sample"]) == (1, ["e3"])
    lines = summary_lines(report)
    assert "1 in the backup but in no landing table (lost), e.g. e3" in lines
    assert "1 rejected but without a dead-letter row, e.g. ('t', 0, 9)" in lines
    assert lines[-1].startswith("NOT OK")


def test_nothing_ran_means_every_backed_up_event_is_lost():
    report = compare(_stores(landed=set(), land_ran=False))
    assert not report["ok"]
    assert report["lost"] == 5
    assert report["compared"] == {"user_events": False, "fallback": False}


def test_the_command_prints_the_summary_or_with_json_the_full_report():
    report = compare(_stores())

    @click.command()
    @json_option
    def cmd(as_json: bool) -> None:
        emit(report, as_json, human=summary_lines)

    assert CliRunner().invoke(cmd, []).output.splitlines() == summary_lines(report)
    assert json.loads(CliRunner().invoke(cmd, ["--json"]).output) == report
