"""``moviepipe run``'s runner: each step's output in its log; a failure stops and names it."""

from __future__ import annotations

from moviepipe.pipeline import Step, failed
from moviepipe.run_progress import log_path, run_live, tail


def test_a_failing_step_stops_the_run_and_its_log_holds_the_output(tmp_path):
    steps = [
        Step("rules check", ("rules", "check")),
        Step("bogus step", ("no-such-command",)),
        Step("never runs", ("rules", "check")),
    ]
    results, logs, run_id = run_live(steps, tmp_path, run_id="test__progress")
    assert run_id == "test__progress"
    assert [r.step.name for r in results] == ["rules check", "bogus step"]
    assert [r.step.name for r in failed(results)] == ["bogus step"]
    assert logs["bogus step"] == log_path(tmp_path, 2, steps[1])
    assert "no-such-command" in tail(logs["bogus step"])
    assert "rule macros are current" in logs["rules check"].read_text()
    assert "never runs" not in logs
