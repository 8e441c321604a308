"""``moviepipe run``: the plan's order and the runner's stop rules."""

from __future__ import annotations

import sys

from moviepipe.pipeline import Step, failed, moviepipe_argv, plan, run_steps


def _names(steps):
    return [s.name for s in steps]


def test_plan_runs_every_stage_in_dependency_order():
    names = _names(plan())
    assert names[0] == "services up"
    order = [
        "extract tmdb",
        "stream produce",
        "stream backup",
        "stream land",
        "extract mongo",
        "enrich",
        "transform",
        "quality",
    ]
    positions = [names.index(n) for n in order]
    assert positions == sorted(positions)
    assert "stream fallback" not in names


def test_spark_offline_lands_with_the_fallback_and_never_promotes():
    names = _names(plan(spark_offline=True))
    assert "stream fallback" in names and "stream land" not in names
    assert not any("promote" in n for n in names)


def test_events_option_reaches_the_producer():
    produce = next(s for s in plan(events=123) if s.name == "stream produce")
    assert produce.args[-2:] == ("--events", "123")


def test_steps_call_the_same_cli_as_make_and_airflow():
    argv = moviepipe_argv(Step("x", ("stream", "land")))
    assert argv == [sys.executable, "-m", "commands", "stream", "land"]


def test_runner_stops_at_the_first_fatal_failure():
    calls = []
    steps = [Step("a", ("a",)), Step("b", ("b",)), Step("c", ("c",))]

    def runner(argv):
        calls.append(argv[-1])
        return 3 if argv[-1] == "b" else 0

    results = run_steps(steps, echo=lambda _: None, runner=runner)
    assert calls == ["a", "b"]
    assert [r.step.name for r in failed(results)] == ["b"]
    assert results[-1].returncode == 3


def test_a_failed_report_step_does_not_stop_the_run():
    steps = [Step("report", ("r",), fatal=False), Step("after", ("z",))]
    results = run_steps(steps, echo=lambda _: None, runner=lambda argv: 1 if argv[-1] == "r" else 0)
    assert [r.step.name for r in results] == ["report", "after"]
    assert failed(results) == []
