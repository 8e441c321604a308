"""`moviepipe quality` against the real PostgreSQL and GX: pass and publish, fail and keep gold.

One database for the module: a sample sized for the gates (every KPI mart full),
built, gated and published; then a bad batch (a vote average of 50, a negative
budget, nine of twelve movies no longer released, so the top-5 KPI marts fall short) that must fail
with the published gold byte-for-byte unchanged; then the fix, which publishes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moviepipe import db
from moviepipe.config import Settings
from quality.docs_assets import external_assets
from quality.suites import GOLD_TABLES
from tests.warehouse import fixtures
from tests.warehouse.conftest import fresh_database, moviepipe, query, transform

M = fixtures.M


def sample_movies() -> list[dict[str, Any]]:
    """Twelve released movies, each with its own director and franchise: every top-N fills."""
    return [
        fixtures.movie(
            200 + i, f"Movie {i}", budget=(20 + 10 * i) * M, revenue=(60 + 25 * i) * M,
            popularity=10.0 + i, vote_average=5.0 + i / 4, vote_count=100 + i,
            collection=(9100 + i, f"Saga {i}"), genres=[fixtures.DRAMA],
            directors=[(700 + i, f"Director {i}")],
        )
        for i in range(12)
    ]  # fmt: skip


def digests(settings: Settings) -> dict[str, str]:
    with db.connect(settings, "admin", autocommit=True) as conn:
        return {
            t: conn.execute(
                "select md5(coalesce(string_agg(x::text, '|' order by x::text), ''))"
                f" from gold.{t} x"
            ).fetchone()[0]
            for t in GOLD_TABLES
        }


@pytest.fixture(scope="module")
def gated(stack: Settings, tmp_path_factory) -> Iterator[dict[str, Any]]:
    docs = tmp_path_factory.mktemp("gx")
    with fresh_database(stack, "quality") as settings:
        with db.connect(settings, "loader") as conn:
            fixtures.land_movies(conn, sample_movies(), run_id="good")
            fixtures.land_events(conn, "raw.user_events", fixtures.EVENTS_RUN1)
        transform(settings, publish=False)
        seen: dict[str, Any] = {"settings": settings, "docs": docs}
        seen["good"] = moviepipe(settings, "quality", "--run-id", "q-good", "--docs-dir", str(docs))
        seen["good_digests"] = digests(settings)
        bad = [
            {**m, "vote_average": 50.0} if i == 0
            else {**m, "budget": -5 * M} if i == 1
            else {**m, "status": "Rumored"} if i > 2 else m
            for i, m in enumerate(sample_movies())
        ]  # fmt: skip
        with db.connect(settings, "loader") as conn:
            fixtures.land_movies(conn, bad, run_id="bad")
        # `dbt run` (no dbt tests): the gate must catch the batch on its own (dbt's own
        # test on budget would stop a `dbt build` before gold; the vote and the KPI not).
        transform(settings, "run")
        seen["bad"] = moviepipe(settings, "quality", "--run-id", "q-bad", "--docs-dir", str(docs))
        seen["bad_digests"] = digests(settings)
        seen["bad_results"] = query(
            settings, "select * from ops.quality_results where run_id = 'q-bad' and not success"
        )
        with db.connect(settings, "admin") as conn:
            conn.execute("delete from raw.tmdb_movies where run_id = 'bad'")
        transform(settings, publish=False)
        seen["fixed"] = moviepipe(
            settings, "quality", "--run-id", "q-fixed", "--docs-dir", str(docs)
        )
        seen["fixed_digests"] = digests(settings)
        with db.connect(settings, "reader") as conn:
            seen["reader_kpi"] = conn.execute(
                "select count(*) from gold.kpi_highest_roi"
            ).fetchone()[0]
        seen["publishes"] = query(
            settings, "select run_id from ops.publish_log order by publish_id"
        )
        yield seen


def test_good_sample_passes_every_suite_and_publishes(gated: dict[str, Any]) -> None:
    good = gated["good"]
    assert good.returncode == 0, good.stdout[-4000:] + good.stderr[-4000:]
    assert "gold published" in good.stdout
    rows = query(gated["settings"], "select * from ops.quality_results where run_id = 'q-good'")
    assert {r["layer"] for r in rows} == {"raw", "silver", "gold"}
    assert rows and all(r["success"] for r in rows)
    assert {"silver.movies_curated", "gold_build.kpi_highest_roi"} <= {r["suite"] for r in rows}


def test_bad_batch_fails_the_gate_and_leaves_gold_unchanged(gated: dict[str, Any]) -> None:
    bad = gated["bad"]
    assert bad.returncode != 0
    assert gated["bad_digests"] == gated["good_digests"]
    assert "FAILED silver.movies_curated" in bad.stderr and "page: " in bad.stderr
    assert "gold is unchanged" in bad.stderr
    failed = {r["suite"]: r for r in gated["bad_results"]}
    assert "silver.movies_curated" in failed
    exps = failed["silver.movies_curated"]["failed_expectations"]
    columns = {e["kwargs"].get("column") for e in exps}
    assert {"vote_average", "budget_musd"} <= columns
    vote = next(e for e in exps if e["kwargs"].get("column") == "vote_average")
    assert "50.0" in [str(v) for v in vote["unexpected_sample"]]  # numeric, as JSON text
    assert any(s.startswith("gold_build.kpi_") for s in failed)
    assert Path(failed["silver.movies_curated"]["data_docs"]).exists()


def test_fixed_batch_publishes_and_the_reader_reads_it(gated: dict[str, Any]) -> None:
    fixed = gated["fixed"]
    assert fixed.returncode == 0, fixed.stdout[-4000:] + fixed.stderr[-4000:]
    assert [r["run_id"] for r in gated["publishes"]] == ["q-good", "q-fixed"]
    assert gated["reader_kpi"] == 5


def test_data_docs_are_offline(gated: dict[str, Any]) -> None:
    docs: Path = gated["docs"]
    assert (docs / "index.html").exists()
    assert external_assets(docs) == []
    assert (docs / "static" / "vendor").is_dir()


def test_committed_context_and_seeds_are_current() -> None:
    from quality.context import stale_files
    from quality.seeds import stale

    assert stale_files() == []
    assert stale() == []


def test_min_rows_rounds_up() -> None:
    from quality.gate import min_rows

    assert min_rows(None, 0.1) == 0
    assert min_rows(10, 0.1) == 9
    assert min_rows(11, 0.1) == 10
    assert json.dumps(min_rows(0, 0.5)) == "0"


def test_moviepipe_run_gates_and_publishes_right_after_the_transform() -> None:
    from moviepipe.pipeline import plan

    names = [s.name for s in plan()]
    assert names[names.index("transform") + 1] == "quality"
