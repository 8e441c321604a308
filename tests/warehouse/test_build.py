"""The dbt warehouse end to end on hand-made raw fixtures (see fixtures.py for the numbers).

Expected values are worked out by hand from the fixtures: budgets and revenues
in millions (0 = unknown), ROI only for budgets >= 10, ratings only with >= 10
votes, top 5, ties by movie_id ascending.
"""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg
import pytest

from moviepipe import db
from tests.warehouse.conftest import moviepipe, transform
from tests.warehouse.fixtures import eid

pytestmark = pytest.mark.integration


def ranked(rows, *cols):
    return [tuple(r[c] for c in ("rank", *cols)) for r in rows]


def test_build_runs_models_tests_unit_tests_and_snapshot(built):
    out = built["stdout"]
    assert "Completed successfully" in out
    assert "unit tests" in out and "snapshot" in out and "data tests" in out


def test_movies_curated(built):
    movies = {m["movie_id"]: m for m in built["movies_curated"]}
    assert sorted(movies) == [101, 102, 103, 104, 106, 107]  # 105 is not released
    alpha = movies[101]
    assert alpha["title"] == "Alpha"  # the latest payload, not the working title
    assert (alpha["budget_musd"], alpha["revenue_musd"]) == (100, 500)
    assert (alpha["profit_musd"], alpha["roi"]) == (400, 5)
    assert alpha["genres"] == "Action|Adventure"
    assert alpha["top_cast"] == "Actor One|Actor Two|Actor Three|Actor Four|Actor Five"
    assert (alpha["cast_size"], alpha["crew_size"]) == (6, 2)
    assert alpha["directors"] == "Dana Director"
    assert alpha["is_franchise"] and alpha["collection_name"] == "Alpha Collection"
    delta = movies[104]
    assert delta["budget_musd"] is None and delta["revenue_musd"] is None
    assert delta["profit_musd"] is None and delta["roi"] is None and delta["release_date"] is None
    assert movies[107]["directors"] == "Fay First|Gus Second"
    assert not movies[106]["is_franchise"]


def test_movie_kpis(built):
    assert ranked(built["kpi_highest_revenue"], "movie_id", "revenue_musd") == [
        (1, 101, 500),
        (2, 103, 50),
        (3, 107, 30),
        (4, 106, 25),
        (5, 102, 20),
    ]
    assert ranked(built["kpi_highest_budget"], "movie_id", "budget_musd") == [
        (1, 101, 100),
        (2, 106, 50),
        (3, 102, 20),
        (4, 107, 10),
        (5, 103, 5),
    ]
    assert ranked(built["kpi_highest_profit"], "movie_id", "profit_musd") == [
        (1, 101, 400),
        (2, 103, 45),
        (3, 107, 20),
        (4, 102, 0),
        (5, 106, -25),
    ]
    # Gamma (ROI 10) has a 5M budget: under the threshold. Eta's 10M is exactly on it.
    assert ranked(built["kpi_highest_roi"], "movie_id", "roi") == [
        (1, 101, 5),
        (2, 107, 3),
        (3, 102, 1),
        (4, 106, Decimal("0.5")),
    ]
    assert [r["movie_id"] for r in built["kpi_lowest_roi"]] == [106, 102, 107, 101]
    # Gamma has 5 votes (< 10); Eta exactly 10. Alpha and Zeta tie at 7.5: movie_id decides.
    assert ranked(built["kpi_highest_rated"], "movie_id", "vote_average") == [
        (1, 101, Decimal("7.5")),
        (2, 106, Decimal("7.5")),
        (3, 102, 6),
        (4, 107, 4),
    ]
    assert [r["movie_id"] for r in built["kpi_lowest_rated"]] == [107, 102, 101, 106]
    # Alpha and Zeta tie at 50.5; Eta (1.0) is sixth and cut; Epsilon (99) is not released.
    assert ranked(built["kpi_most_popular"], "movie_id", "popularity") == [
        (1, 101, 50.5),
        (2, 106, 50.5),
        (3, 103, 30.0),
        (4, 102, 10.0),
        (5, 104, 5.0),
    ]


def test_director_and_franchise_kpis(built):
    # Dana's unreleased Epsilon does not count; Fay's Delta has no revenue and no votes.
    assert ranked(
        built["kpi_top_directors"], "person_id", "movie_count", "total_revenue_musd", "mean_rating"
    ) == [
        (1, 501, 2, 520, Decimal("6.75")),
        (2, 502, 2, 75, Decimal("7.75")),
        (3, 503, 2, 30, 4),
        (4, 504, 1, 30, 4),
    ]
    assert ranked(
        built["kpi_top_franchises"],
        "collection_id",
        "movie_count",
        "total_revenue_musd",
        "mean_revenue_musd",
        "total_budget_musd",
        "mean_rating",
    ) == [
        (1, 9001, 2, 520, 260, 120, Decimal("6.75")),
        (2, 9002, 1, 30, 30, 10, 4),
    ]
    groups = {r["movie_group"]: r for r in built["kpi_franchise_vs_standalone"]}
    franchise, standalone = groups["franchise"], groups["standalone"]
    assert franchise["movie_count"] == 3 and standalone["movie_count"] == 3
    assert round(franchise["mean_revenue_musd"], 6) == Decimal("183.333333")  # (500+20+30)/3
    assert franchise["median_roi"] == 3  # ROIs 5, 1, 3
    assert round(franchise["mean_budget_musd"], 6) == Decimal("43.333333")  # (100+20+10)/3
    assert franchise["mean_popularity"] == pytest.approx(20.5)
    assert round(franchise["mean_rating"], 6) == Decimal("5.833333")  # (7.5+6+4)/3
    assert standalone["mean_revenue_musd"] == Decimal("37.5")  # (50+25)/2, Delta unknown
    assert standalone["median_roi"] == Decimal("0.5")  # Gamma under threshold, Delta unknown
    assert standalone["mean_budget_musd"] == Decimal("27.5")
    assert standalone["mean_popularity"] == pytest.approx(28.5)
    assert standalone["mean_rating"] == Decimal("7.75")  # Delta has no votes


def test_events_union_dedup_and_facts(built):
    events = {str(e["event_id"]): e for e in built["user_events"]}
    # 6 landed + 1 only in the MongoDB backup; the invalid backup document is not an event.
    assert sorted(events) == sorted(eid(n) for n in (1, 2, 3, 4, 5, 7, 8))
    assert events[eid(7)]["source_flag"] == "mongo"
    assert events[eid(8)]["source_flag"] == "spark"  # in both copies: the landing wins
    facts = {str(f["event_id"]): f for f in built["fact_user_event"]}
    assert facts[eid(1)]["is_completed"] is True and facts[eid(1)]["date_key"] == 20240301
    assert facts[eid(4)]["is_completed"] is False and facts[eid(4)]["movie_key"] is None
    assert facts[eid(5)]["is_completed"] is True  # exactly 0.9
    assert facts[eid(3)]["rating"] == Decimal("4.5")
    fallback = built["fact_user_event_fallback"]
    assert [str(f["event_id"]) for f in fallback] == [eid(9)]
    assert fallback[0]["source_flag"] == "pandas" and fallback[0]["movie_key"] == 107


def test_sessions_cross_midnight(built):
    facts = {str(f["event_id"]): f for f in built["fact_user_event"]}
    # 23:50, 00:10, 00:30: one session; 02:00 and 03:00 are two more (gaps of 90 and 60 min).
    assert (
        facts[eid(1)]["session_key"] == facts[eid(2)]["session_key"] == facts[eid(3)]["session_key"]
    )
    assert len({facts[eid(n)]["session_key"] for n in (1, 4, 5)}) == 3
    u1 = sorted(
        (s for s in built["dim_session"] if s["user_id"] == "u1"),
        key=lambda s: s["session_start_ts"],
    )
    assert [s["event_count"] for s in u1] == [3, 1, 1]
    assert u1[0]["start_date_key"] == 20240301 and u1[0]["duration_s"] == 2400
    users = {u["user_id"]: u for u in built["dim_user"]}
    assert users["u1"]["session_count"] == 3 and users["u2"]["session_count"] == 1


def test_late_event_merges_sessions_incrementally(built, rebuilt):
    before = {str(f["event_id"]): f for f in built["fact_user_event"]}
    after = {str(f["event_id"]): f for f in rebuilt["fact_user_event"]}
    assert len(after) == 8
    # The late 02:30 event is 30 minutes from both 02:00 and 03:00: one session now,
    # keyed by its first event, and the 03:00 session's key is gone everywhere.
    merged = before[eid(4)]["session_key"]
    assert (
        after[eid(4)]["session_key"]
        == after[eid(6)]["session_key"]
        == after[eid(5)]["session_key"]
        == merged
    )
    gone = before[eid(5)]["session_key"]
    assert gone not in {s["session_key"] for s in rebuilt["dim_session"]}
    assert gone not in {f["session_key"] for f in after.values()}
    u1 = [s for s in rebuilt["dim_session"] if s["user_id"] == "u1"]
    assert sorted(s["event_count"] for s in u1) == [3, 3]  # 23:50-00:30 and 02:00-03:00
    # Merged into the same tables, not rebuilt: an incremental run of the event lineage
    # only (no movie model, no unit test ran).
    assert rebuilt["fact_oid"] == built["fact_oid"]
    assert rebuilt["user_events_oid"] == built["user_events_oid"]
    finished = next(
        line for line in rebuilt["events_stdout"].splitlines() if "Finished running" in line
    )
    assert "incremental model" in finished and "unit test" not in finished
    assert "movies_curated" not in rebuilt["events_stdout"]
    assert after[eid(1)]["_loaded_at"] == before[eid(1)]["_loaded_at"]


def test_snapshot_keeps_metric_history(built, rebuilt):
    assert sorted(r["movie_id"] for r in built["snapshot"]) == [101, 102, 103, 104, 105, 106, 107]
    alpha = sorted(
        (r for r in rebuilt["snapshot"] if r["movie_id"] == 101), key=lambda r: r["dbt_valid_from"]
    )
    assert [(r["popularity"], r["vote_count"]) for r in alpha] == [(50.5, 1000), (60.0, 1100)]
    assert alpha[0]["dbt_valid_to"] == alpha[1]["dbt_valid_from"]
    assert alpha[1]["dbt_valid_to"] is None
    # Beta's new payload changed only the synopsis: no new version.
    assert len([r for r in rebuilt["snapshot"] if r["movie_id"] == 102]) == 1
    # and the marts follow the current payload
    assert rebuilt["kpi_most_popular"][0]["popularity"] == 60.0


def test_source_freshness(built, wh_settings):
    out = transform(wh_settings, "source", "freshness")
    assert "freshness of raw.tmdb_movies" in out and "PASS" in out


def test_reader_selects_gold_only(built, wh_settings):
    with db.connect(wh_settings, "reader") as conn:
        rows = conn.execute("select count(*) from gold.kpi_highest_revenue").fetchone()
        assert rows == (5,)
        assert conn.execute("select count(*) from gold.fact_user_event").fetchone()[0] >= 7
    with (
        db.connect(wh_settings, "reader") as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("select count(*) from silver.movies_curated")


def test_gold_columns_are_documented_in_the_database(built, wh_settings):
    sql = (
        "select col_description('gold.dim_movie'::regclass, ordinal_position::int)"
        " from information_schema.columns"
        " where table_schema = 'gold' and table_name = 'dim_movie'"
    )
    with db.connect(wh_settings) as conn:
        rows = conn.execute(sql).fetchall()
    assert rows and all(d for (d,) in rows)


def test_docs_site_describes_every_model_and_column(built, wh_settings, tmp_path):
    proc = moviepipe(wh_settings, "docs", "--no-charts", "--out", str(tmp_path / "site"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    dbt_docs = tmp_path / "site" / "dbt"
    assert (tmp_path / "site" / "index.html").exists() and (dbt_docs / "index.html").exists()
    manifest = json.loads((dbt_docs / "manifest.json").read_text())
    catalog = json.loads((dbt_docs / "catalog.json").read_text())
    assert "model.moviepipe.kpi_top_directors" in catalog["nodes"]
    undocumented = [
        (uid, column)
        for kind in ("nodes", "sources")
        for uid, node in catalog[kind].items()
        for column in ["", *node["columns"]]
        if not (
            manifest[kind][uid]["columns"].get(column, {}).get("description")
            if column
            else manifest[kind][uid].get("description")
        )
    ]
    assert undocumented == []
