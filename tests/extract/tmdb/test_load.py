"""The TMDB extractor end to end: local TMDB server -> PostgreSQL raw/ops and MongoDB raw.movies."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest

from extract.tmdb.changes import CHANGES_BOOKMARK
from extract.tmdb.client import TmdbAuthError, TmdbClient
from extract.tmdb.dev.fakeserver import Faults, ServerStats, running_server
from extract.tmdb.dev.sample import generate_movies
from extract.tmdb.load import run_tmdb_extract
from extract.tmdb.records import payload_hash
from moviepipe import db
from moviepipe.services import mongo
from tests.extract.conftest import API_KEY

pytestmark = pytest.mark.integration

DOCS = {d["id"]: d for d in generate_movies(120, seed=11)}
IDS = sorted(DOCS)
UNKNOWN = [1, 2]


def client_for(url: str, **kw) -> TmdbClient:
    options = {
        "api_key": API_KEY,
        "rate_limit_per_s": 400,
        "backoff_base_s": 0.01,
        "max_retries": 3,
        "timeout_s": 5,
    }
    options.update(kw)
    return TmdbClient(url, **options)


def extract_from(url, mongo_db, settings, **kw):
    """``run_tmdb_extract`` against the local server at ``url``, quietly."""
    return run_tmdb_extract(
        settings, mongo_db=mongo_db, client=kw.pop("client", client_for(url)), progress=False, **kw
    )


def query(settings, sql, *args):
    with db.connect(settings, "admin") as conn:
        return conn.execute(sql, args).fetchall()


def mongo_movies(settings, dbname):
    with mongo.client(settings) as mc:
        return {d["_id"]: d for d in mc[dbname]["movies"].find({})}


def test_ids_with_missing_failed_and_retried(ex_settings, mongo_db_name):
    ids = IDS[:30] + UNKNOWN + [IDS[30]]
    faults = Faults(always={IDS[30]: 503}, script={IDS[0]: [500, "truncate"], IDS[1]: [429]})
    with running_server(DOCS, api_key=API_KEY, faults=faults) as url:
        summary = extract_from(url, mongo_db_name, ex_settings, movie_ids=ids, batch_size=7)
    assert summary.status == "partial" and summary.exit_code == 1
    assert (summary.fetched, summary.new, summary.missing, summary.failed) == (30, 30, 2, 1)
    assert summary.retries >= 3 + 3 and summary.throttled == 1
    rows = query(
        ex_settings,
        "select movie_id, payload, payload_hash, run_id, source_flag from raw.tmdb_movies",
    )
    assert sorted(r[0] for r in rows) == IDS[:30]
    for movie_id, payload, digest, run_id, flag in rows:
        assert payload == DOCS[movie_id]  # exactly as served
        assert digest == payload_hash(DOCS[movie_id])
        assert (run_id, flag) == (summary.run_id, "tmdb_api")
    errors = query(
        ex_settings,
        "select entity_id, kind, status_code from ops.extract_errors"
        " where run_id = %s order by entity_id",
        summary.run_id,
    )
    assert errors == sorted(
        [("1", "missing", 404), ("2", "missing", 404), (str(IDS[30]), "failed", 503)]
    )
    backup = mongo_movies(ex_settings, mongo_db_name)
    assert sorted(backup) == IDS[:30]
    assert backup[IDS[0]]["title"] == DOCS[IDS[0]]["title"]
    assert backup[IDS[0]]["run_id"] == summary.run_id and "ingested_at" in backup[IDS[0]]
    log = query(
        ex_settings, "select status, summary from ops.run_log where run_id = %s", summary.run_id
    )
    assert log[0][0] == "partial" and log[0][1]["failed_ids"] == [IDS[30]]


def test_rerun_same_payload_adds_nothing_changed_payload_adds_a_row(ex_settings, mongo_db_name):
    docs = copy.deepcopy(DOCS)
    ids = IDS[:10]
    with running_server(docs, api_key=API_KEY) as url:
        first = extract_from(url, mongo_db_name, ex_settings, movie_ids=ids)
        second = extract_from(url, mongo_db_name, ex_settings, movie_ids=ids)
        docs[ids[0]]["vote_count"] += 1  # the server's dict is shared: TMDB updated the movie
        third = extract_from(url, mongo_db_name, ex_settings, movie_ids=ids)
    assert (first.new, first.unchanged) == (10, 0)
    assert (second.new, second.unchanged) == (0, 10)
    assert (third.new, third.unchanged) == (1, 9)
    history = query(
        ex_settings,
        "select count(*), count(distinct payload_hash) from raw.tmdb_movies where movie_id = %s",
        ids[0],
    )
    assert history == [(2, 2)]
    assert query(ex_settings, "select count(*) from raw.tmdb_movies") == [(11,)]
    backup = mongo_movies(ex_settings, mongo_db_name)
    assert len(backup) == 10
    assert backup[ids[0]]["vote_count"] == docs[ids[0]]["vote_count"]
    assert backup[ids[0]]["run_id"] == third.run_id


def test_bad_key_aborts_and_writes_no_movie(ex_settings, mongo_db_name):
    with running_server(DOCS, api_key=API_KEY) as url, pytest.raises(TmdbAuthError):
        run_tmdb_extract(
            ex_settings,
            movie_ids=IDS[:20],
            mongo_db=mongo_db_name,
            client=client_for(url, api_key="bad"),
            progress=False,
        )
    assert query(ex_settings, "select count(*) from raw.tmdb_movies") == [(0,)]
    assert mongo_movies(ex_settings, mongo_db_name) == {}
    status, error = query(ex_settings, "select status, error from ops.run_log")[0]
    assert status == "failed" and "credentials" in error


def test_key_revoked_mid_run_stops_at_once(ex_settings, mongo_db_name):
    """Batches committed before the 401 stay; nothing is written after it."""
    stats = ServerStats()
    faults = Faults(always={IDS[25]: 401})
    with (
        running_server(DOCS, api_key=API_KEY, stats=stats, faults=faults) as url,
        pytest.raises(TmdbAuthError),
    ):
        run_tmdb_extract(
            ex_settings,
            movie_ids=IDS[:100],
            mongo_db=mongo_db_name,
            batch_size=5,
            client=client_for(url, rate_limit_per_s=100),
            progress=False,
        )
    landed = query(ex_settings, "select count(*) from raw.tmdb_movies")[0][0]
    assert landed % 5 == 0 and landed < 100
    assert stats.detail_requests[IDS[25]] == 1  # no retry of bad credentials
    assert sum(stats.detail_requests.values()) < 100


def test_discover_never_past_total_pages(ex_settings, mongo_db_name):
    stats = ServerStats()
    with running_server(DOCS, api_key=API_KEY, stats=stats) as url:
        summary = extract_from(url, mongo_db_name, ex_settings, discover_pages=50)
    assert summary.status == "succeeded" and summary.fetched == 120
    assert stats.statuses[200] == 120 + 6  # 120 details + pages 1..6 (120 movies / 20)


def test_popular_pages_subset(ex_settings, mongo_db_name):
    with running_server(DOCS, api_key=API_KEY) as url:
        summary = extract_from(url, mongo_db_name, ex_settings, discover_pages=2, popular=True)
    released = sorted(
        (d for d in DOCS.values() if d["status"] == "Released"),
        key=lambda d: (-d["popularity"], d["id"]),
    )[:40]
    landed = {r[0] for r in query(ex_settings, "select movie_id from raw.tmdb_movies")}
    assert summary.ids_total == 40 and landed == {d["id"] for d in released}


def test_changes_windows_and_bookmark(ex_settings, mongo_db_name):
    today = date(2026, 3, 31)
    changes = {today - timedelta(days=n): [IDS[n]] for n in range(40)}
    stats = ServerStats()
    with running_server(DOCS, api_key=API_KEY, changes=changes, stats=stats) as url:
        first = extract_from(
            url,
            mongo_db_name,
            ex_settings,
            changes=True,
            since=today - timedelta(days=29),
            today=today,
        )
        # 30 days -> 3 windows of at most 14 days; the server rejects longer ones.
        assert stats.statuses[422] == 0
        assert first.status == "succeeded" and first.ids_total == 30
        assert query(
            ex_settings, "select value from ops.bookmarks where name = %s", CHANGES_BOOKMARK
        ) == [(today.isoformat(),)]
        # Next run starts at the bookmark: only the ids changed that day.
        later = today + timedelta(days=2)
        changes[later] = [IDS[50], IDS[51]]
        second = extract_from(url, mongo_db_name, ex_settings, changes=True, today=later)
        assert second.ids_total == 3  # IDS[0] changed on `today`, the bookmark day, plus two
        landed = {r[0] for r in query(ex_settings, "select movie_id from raw.tmdb_movies")}
        assert landed == set(IDS[:30]) | {IDS[50], IDS[51]}


def test_bookmark_does_not_advance_after_a_failed_id(ex_settings, mongo_db_name):
    today = date(2026, 3, 31)
    changes = {today: [IDS[0], IDS[1]]}
    with running_server(
        DOCS, api_key=API_KEY, changes=changes, faults=Faults(always={IDS[1]: 500})
    ) as url:
        summary = extract_from(
            url,
            mongo_db_name,
            ex_settings,
            changes=True,
            since=today - timedelta(days=3),
            today=today,
        )
    assert summary.status == "partial"
    assert query(ex_settings, "select count(*) from ops.bookmarks") == [(0,)]


def test_bronze_files(ex_settings, mongo_db_name, tmp_path):
    with running_server(DOCS, api_key=API_KEY) as url:
        summary = extract_from(
            url, mongo_db_name, ex_settings, movie_ids=IDS[:25], batch_size=10, bronze_dir=tmp_path
        )
    (folder,) = (tmp_path / "movies").iterdir()
    assert folder.name.startswith("ingestion_date=")
    (json_file,) = folder.glob("movies_raw_*.json")
    (parquet_file,) = folder.glob("movies_raw_*.parquet")
    lines = [json.loads(x) for x in json_file.read_text(encoding="utf-8").splitlines()]
    assert sorted(d["id"] for d in lines) == IDS[:25]
    table = pq.read_table(parquet_file).to_pylist()
    assert sorted(r["movie_id"] for r in table) == IDS[:25]
    assert {r["run_id"] for r in table} == {summary.run_id}
    assert all(json.loads(r["payload"]) == DOCS[r["movie_id"]] for r in table)


def test_kill_mid_run_then_rerun_loses_and_duplicates_nothing(ex_settings, mongo_db_name, tmp_path):
    docs = {d["id"]: d for d in generate_movies(160, seed=5)}
    ids = sorted(docs)
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(map(str, ids)) + "\n", encoding="utf-8")
    with running_server(docs, api_key=API_KEY) as url:
        env = {
            **os.environ,
            "PGDATABASE": ex_settings.pgdatabase,
            "TMDB_BASE_URL": url,
            "TMDB_API_KEY": API_KEY,
        }
        cmd = [
            sys.executable,
            "-m",
            "extract.tmdb",
            "--movie-ids",
            f"@{ids_file}",
            "--mongo-db",
            mongo_db_name,
            "--batch-size",
            "10",
            "--no-progress",
        ]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        landed = 0
        while landed < 30 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
            landed = query(ex_settings, "select count(*) from raw.tmdb_movies")[0][0]
        assert proc.poll() is None, proc.stderr.read().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_at = query(ex_settings, "select count(*) from raw.tmdb_movies")[0][0]
        assert 30 <= killed_at < 160 and killed_at % 10 == 0  # whole batches only
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    rows = query(ex_settings, "select movie_id, count(*) from raw.tmdb_movies group by movie_id")
    assert sorted(r[0] for r in rows) == ids and all(r[1] == 1 for r in rows)
    assert sorted(mongo_movies(ex_settings, mongo_db_name)) == ids
    statuses = sorted(r[0] for r in query(ex_settings, "select status from ops.run_log"))
    assert statuses == ["running", "succeeded"]  # the killed run stays visible as unfinished


def test_cli_exit_codes(ex_settings, mongo_db_name):
    from click.testing import CliRunner
    from pydantic import SecretStr

    from extract.cli import extract

    args = [
        "tmdb",
        "--movie-ids",
        f"{IDS[0]},{IDS[1]},{UNKNOWN[0]}",
        "--mongo-db",
        mongo_db_name,
        "--no-progress",
    ]
    faults = Faults(always={IDS[1]: 422})  # a client error: failed without retries
    with running_server(DOCS, api_key=API_KEY, faults=faults) as url:
        good = ex_settings.model_copy(
            update={"tmdb_base_url": url, "tmdb_api_key": SecretStr(API_KEY)}
        )
        bad = good.model_copy(update={"tmdb_api_key": SecretStr("nope")})
        partial = CliRunner().invoke(extract, args, obj=good)
        refused = CliRunner().invoke(extract, args, obj=bad)
        usage = CliRunner().invoke(extract, ["tmdb", "--movie-ids", "12,x"], obj=good)
    assert partial.exit_code == 1, partial.output
    assert "fetched 1" in partial.output and "missing 1" in partial.output
    assert "failed 1" in partial.output
    assert refused.exit_code == 2 and "rejected the credentials" in refused.output
    assert usage.exit_code == 2 and "not a movie id" in usage.output


def test_mongo_upsert_replaces_existing_ids(ex_settings, mongo_db_name):
    from datetime import UTC, datetime

    from extract.tmdb.mongo_sink import upsert_movies

    a, b = DOCS[IDS[0]], DOCS[IDS[1]]
    changed = {**a, "title": "Retitled"}
    with mongo.client(ex_settings) as mc:
        coll = mc[mongo_db_name]["movies"]
        upsert_movies(coll, [(a["id"], a, "h1")], datetime.now(UTC), "run-1")
        upsert_movies(
            coll, [(a["id"], changed, "h2"), (b["id"], b, "h3")], datetime.now(UTC), "run-2"
        )
        got = {d["_id"]: d for d in coll.find({})}
    assert sorted(got) == sorted([a["id"], b["id"]])
    assert got[a["id"]]["title"] == "Retitled" and got[a["id"]]["run_id"] == "run-2"
    assert got[b["id"]]["payload_hash"] == "h3"
