"""The project view cosmos runs dbt in: paths outside dbt_project/ made absolute."""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.dbt_group import DBT_PROJECT, outside_paths, project_view


def test_only_paths_leaving_the_project_become_links(tmp_path):
    project = tmp_path / "dbt_project"
    (project / "macros").mkdir(parents=True)  # a name the project already uses
    parsed = {"name": "p", "model-paths": ["models"], "macro-paths": ["../macros", "macros"],
              "seed-paths": ["../seeds"]}  # fmt: skip
    out, links = outside_paths(parsed, project)
    assert out["model-paths"] == ["models"]
    assert out["macro-paths"] == ["_macros", "macros"]
    assert out["seed-paths"] == ["seeds"]
    assert links == {
        "_macros": (tmp_path / "macros").resolve(),
        "seeds": (tmp_path / "seeds").resolve(),
    }
    assert parsed["macro-paths"] == ["../macros", "macros"]  # the input is left as it was
    assert out["name"] == "p"


def test_the_view_links_the_project_and_reaches_the_root_macros(tmp_path):
    view = project_view(tmp_path)
    assert view == tmp_path / "cosmos" / "project"
    assert (view / "models").resolve() == (DBT_PROJECT / "models").resolve()
    assert not (view / "target").exists()
    derived = yaml.safe_load((view / "dbt_project.yml").read_text(encoding="utf-8"))
    (macros,) = derived["macro-paths"]
    assert (view / macros / "generate_schema_name.sql").exists()
    assert not Path(macros).is_absolute()
    # Idempotent: a second parse leaves the same view.
    before = (view / "dbt_project.yml").stat().st_mtime_ns
    assert project_view(tmp_path) == view
    assert (view / "dbt_project.yml").stat().st_mtime_ns == before
