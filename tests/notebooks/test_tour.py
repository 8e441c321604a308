"""notebooks/tour.ipynb: kept without outputs, and runs top to bottom with
``jupyter nbconvert --execute`` (what ``make notebook`` does) on a real gold build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from moviepipe import db
from moviepipe.config import Settings

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "tour.ipynb"
JUPYTER = str(Path(sys.executable).with_name("jupyter"))
# What a newcomer must see: each layer's tables, in the order the data flows.
LAYERS = [
    "raw.tmdb_movies",
    "raw.user_events_rejected",
    "silver.movies_curated",
    "gold.fact_user_event",
    "gold.kpi_highest_revenue",
    "ops.quality_results",
]
BAD_MESSAGE = b'{"event_type": "watch", "user_id": '  # truncated JSON


def test_the_notebook_is_kept_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]
    source = "\n".join(c.source for c in nb.cells)
    positions = [source.find(name) for name in LAYERS]
    assert -1 not in positions, dict(zip(LAYERS, positions, strict=True))
    assert positions == sorted(positions), "the tour follows the data's flow"


def text_of(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.integration
def test_the_notebook_runs_headless_on_a_built_gold(gold_settings: Settings, tmp_path):
    settings = gold_settings
    with db.connect(settings, "loader") as conn:
        conn.execute(
            "insert into raw.user_events_rejected (kafka_topic, kafka_partition,"
            " kafka_offset, raw_value, reason, run_id, source_flag)"
            " values ('user_watch_log', 0, 42, %s, 'malformed_json', 'test', 'spark')",
            (BAD_MESSAGE,),
        )
    with db.connect(settings, "reader") as conn:
        top_title = conn.execute(
            "select title from gold.kpi_highest_revenue order by rank limit 1"
        ).fetchone()[0]
    with db.connect(settings, "admin") as conn:
        gates = [r[0] for r in conn.execute("select checkpoint from ops.quality_results")]
    env = {**os.environ, "PGDATABASE": settings.pgdatabase}
    output_dir = ["--output-dir", str(tmp_path)]
    proc = subprocess.run(
        [JUPYTER, "nbconvert", "--to", "notebook", "--execute", str(NOTEBOOK), *output_dir],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    ran = nbformat.read(tmp_path / "tour.ipynb", as_version=4)
    code = [c for c in ran.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    everything = "\n".join(text_of(c) for c in code)
    assert f"database {settings.pgdatabase}" in everything  # the settings' database, not another
    assert "not built yet" not in everything
    assert "malformed_json" in everything and '"event_type": "watch"' in everything
    assert top_title in everything
    # Gate results are shown, or said to be missing: never a failure.
    if gates:
        assert "recent gate results passed" in everything
    else:
        assert "no gate result yet" in everything
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1
