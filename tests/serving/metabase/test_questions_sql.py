"""Every question of dashboard.yml runs on a real gold build as the reader role, and
names the columns its chart settings plot."""

from __future__ import annotations

import pytest

from moviepipe import db
from moviepipe.config import Settings
from serving.metabase.definition import load_definition

pytestmark = pytest.mark.integration


@pytest.fixture
def gold(gold_settings: Settings) -> Settings:
    return gold_settings  # the serving tests' shared gold build (tests/serving/conftest.py)


def test_every_question_runs_as_the_reader_and_plots_its_own_columns(gold):
    definition = load_definition()
    empty = []
    with db.connect(gold, "reader") as conn:
        for question in definition.questions:
            cur = conn.execute(question.sql)
            columns = [c.name for c in cur.description or []]
            if not cur.fetchall():
                empty.append(question.name)
            settings = question.visualization_settings
            plotted = [*settings.get("graph.dimensions", []), *settings.get("graph.metrics", [])]
            assert set(plotted) <= set(columns), (question.name, plotted, columns)
    # The fixtures feed every mart the dashboard shows.
    assert not empty, empty


def test_the_reader_cannot_see_other_schemas_so_the_schema_filter_matches(gold):
    # Metabase connects as the reader: a question on silver would fail there too.
    with db.connect(gold, "reader") as conn:
        visible = {
            row[0]
            for row in conn.execute(
                "select distinct table_schema from information_schema.tables"
                " where table_schema not in ('pg_catalog', 'information_schema')"
            )
        }
    assert load_definition().database.schema_ in visible
    assert not visible & {"raw", "staging", "silver", "ops", "snapshots"}, visible
