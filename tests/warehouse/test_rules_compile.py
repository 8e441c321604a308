"""The rule macros are generated from transform_rules.json and must be current."""

from __future__ import annotations

import json
import subprocess

from moviepipe.config import PROJECT_DIR
from moviepipe.rules import DEFAULT_RULES_PATH, load_rules
from moviepipe.rules_compile import (
    DEFAULT_MACROS_PATH,
    is_current,
    render_macros,
    sql_literal,
    write_macros,
)
from tests.warehouse.conftest import MOVIEPIPE


def test_committed_macros_are_current():
    assert is_current(), "run `moviepipe rules compile` and commit macros/generated/"


def test_stale_macros_are_detected(tmp_path):
    rules = json.loads(DEFAULT_RULES_PATH.read_text())
    rules["movies"]["roi_min_budget_musd"] = 25
    changed = tmp_path / "transform_rules.json"
    changed.write_text(json.dumps(rules))
    assert not is_current(changed, DEFAULT_MACROS_PATH)
    out = write_macros(changed, tmp_path / "rules.sql")
    assert is_current(changed, out)
    assert "{% macro rule_roi_min_budget_musd() -%}\n25.0\n{%- endmacro %}" in out.read_text()


def test_every_rule_has_a_macro():
    text = render_macros(load_rules())
    for name in (
        "rule_roi_min_budget_musd",
        "rule_rating_min_votes",
        "rule_kpi_top_n",
        "rule_session_inactivity_gap_minutes",
        "rule_watch_completion_threshold",
        "rule_lookback_hours",
        "rule_money_divisor",
        "rule_released_statuses",
        "rule_released_statuses_values",
        "rule_valid_event_types_values",
        "rule_topic_by_event_type",
    ):
        assert f"{{% macro {name}(" in text
    assert "('watch', 'click', 'comment', 'movie_update')" in text


def test_sql_literals_escape_quotes():
    assert sql_literal("O'Brien") == "'O''Brien'"
    assert sql_literal(True) == "true" and sql_literal(0.9) == "0.9"


def test_cli_check_passes_on_the_committed_macros():
    proc = subprocess.run(
        [MOVIEPIPE, "rules", "check"], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
