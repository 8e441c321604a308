"""Benchmark: `dbt build` on the TMDB 5000 movies and the MovieLens activity.

1. The 4,803 movies of ``<data>/tmdb_5000`` become TMDB-shaped documents
   (``bench.kaggle.kaggle_docs``), served by the local TMDB-shaped
   server and landed by the real extractor (``run_tmdb_extract``: raw.tmdb_movies
   and the MongoDB backup; ~20 s with the client's rate limit lifted, since the
   local server has none). ``MOVIEPIPE_BENCH_DIRECT_COPY=1`` skips the server and
   copies the same rows (``extract.tmdb.records.payload_hash``) straight into
   raw.tmdb_movies, which is all dbt reads.
2. The MovieLens activity (``streaming.sources.movielens_events``: ratings as
   watches, tags as comments, ~100k events) is landed into raw.user_events with
   COPY, except a random 2% held back.
3. ``dbt build`` full (fresh warehouse: every model, snapshot, test and unit
   test), timed; then held-back events are landed (late events, spread over the
   whole history; 2% are held back, 1% for each of the two measurements below) and
   the incremental refresh runs, timed:
   ``dbt build --selector events`` (the event lineage: silver user_events and
   sessions, fact_user_event merged incrementally, the event dimensions, their
   tests; movie models, KPI marts and unit tests do not change with new events).

Both are timed twice: in process through dbtRunner (as an orchestrator runs dbt;
the figures against the targets), and as the `dbt` subprocess `moviepipe
transform` starts (adds the interpreter start-up and dbt's imports, ~2 s, to
every call; its full build is a ``--full-refresh`` of the same warehouse).

Targets: full build <= 15 s wall; incremental <= half the full build.
The machine is shared: run it alone for stable figures.
Run alone: ``python -m bench warehouse`` (data dir: MOVIEPIPE_DATA_DIR, default ../shared/data).
Uses its own database and MongoDB database, dropped at the end.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
import uuid

from moviepipe import db, services
from moviepipe.config import Settings, load_settings
from moviepipe.dbt_runner import default_target_path, run_dbt, run_dbt_in_process

FULL_TARGET_S = 15.0
HELD_BACK = 0.02  # two batches of 1%: one per measurement
COPY_COLUMNS = (
    "event_id, event_type, event_ts, user_id, session_id, movie_id, payload,"
    " kafka_topic, kafka_partition, kafka_offset, run_id, source_flag"
)
TOPIC = {"watch": "user_watch_log", "comment": "user_comment_log", "click": "user_click_log",
         "movie_update": "movie"}  # fmt: skip


def land_movies(settings: Settings, mongo_db: str) -> int:
    """TMDB 5000 as TMDB-shaped documents into raw.tmdb_movies (see the module docstring)."""
    from bench.kaggle import kaggle_docs
    from extract.tmdb.records import payload_hash

    docs = kaggle_docs(settings.moviepipe_data_dir / "tmdb_5000")
    if os.environ.get("MOVIEPIPE_BENCH_DIRECT_COPY") != "1":
        return extract_movies(settings, docs, sorted(docs), mongo_db)
    copy_sql = (
        "copy raw.tmdb_movies (movie_id, payload, payload_hash, run_id, source_flag) from stdin"
    )
    with (
        db.connect(settings, "loader") as conn,
        conn.cursor() as cur,
        cur.copy(copy_sql) as copy,  # type: ignore[arg-type]
    ):
        for movie_id, doc in docs.items():
            copy.write_row((movie_id, json.dumps(doc), payload_hash(doc), "bench", "tmdb_api"))
    return len(docs)


def extract_movies(settings: Settings, docs: dict[int, dict], ids: list[int], mongo_db: str) -> int:
    """The real path: local TMDB-shaped server + ``run_tmdb_extract``."""
    from extract.tmdb.client import TmdbClient
    from extract.tmdb.dev.fakeserver import running_server
    from extract.tmdb.load import run_tmdb_extract

    with running_server(docs, api_key="bench-key") as base_url:
        extract_settings = settings.model_copy(update={"tmdb_base_url": base_url})
        # The local server has no rate limit to respect: lift the client's.
        client = TmdbClient.from_settings(
            extract_settings, api_key="bench-key", rate_limit_per_s=2000, concurrency=16
        )
        summary = run_tmdb_extract(
            extract_settings, movie_ids=ids, mongo_db=mongo_db, client=client, progress=False
        )
        client.close()
    print(f"  extract: {summary.line()}", flush=True)
    return len(ids)


def land_events(settings: Settings, events: list[dict], run_id: str) -> None:
    copy_sql = f"copy raw.user_events ({COPY_COLUMNS}) from stdin"
    with (
        db.connect(settings, "loader") as conn,
        conn.cursor() as cur,
        cur.copy(copy_sql) as copy,  # type: ignore[arg-type]
    ):
        for i, e in enumerate(events):
            copy.write_row((
                e["event_id"], e["event_type"], e["event_ts"], e["user_id"], e["session_id"],
                e["movie_id"], json.dumps(e["payload"]), TOPIC[e["event_type"]], 0, i,
                run_id, "spark",
            ))  # fmt: skip


def timed_build(settings: Settings, *args: str, in_process: bool = False) -> float:
    """Wall time of one `dbt build`: as a `dbt` subprocess (what `moviepipe transform`
    runs), or in this process through dbtRunner (what an orchestrator does)."""
    start = time.monotonic()
    if in_process:
        ok = run_dbt_in_process(settings, ["build", "--quiet", *args])
        output = "see .local/log/dbt/dbt.log"
    else:
        proc = run_dbt(settings, ["build", *args], capture=True)
        ok, output = proc.returncode == 0, proc.stdout[-5000:]
    elapsed = time.monotonic() - start
    if not ok:
        raise RuntimeError(f"dbt build failed:\n{output}")
    return elapsed


def main() -> None:
    from moviepipe.services import mongo
    from streaming.sources import movielens_events

    stack = services.up(load_settings())
    name = f"bench_warehouse_{uuid.uuid4().hex[:8]}"
    settings = stack.model_copy(update={"pgdatabase": name})
    db.bootstrap(settings, name)
    try:
        t0 = time.monotonic()
        movies = land_movies(settings, name)
        events = list(movielens_events(settings.moviepipe_data_dir / "movielens_small"))
        rng = random.Random(5)
        rng.shuffle(events)
        cut = int(len(events) * HELD_BACK)
        late, first = events[:cut], events[cut:]
        land_events(settings, first, "bench-1")
        print(f"  landed {movies} movies and {len(first)} events"
              f" in {time.monotonic() - t0:.1f}s (held back {len(late)})", flush=True)  # fmt: skip

        if not run_dbt_in_process(settings, ["parse", "--quiet"]):
            raise RuntimeError("dbt parse failed")
        half = len(late) // 2
        # In-process first (the figures against the targets), then the same through the CLI.
        full = timed_build(settings, in_process=True)
        land_events(settings, late[:half], "bench-2")
        incremental = timed_build(settings, "--selector", "events", in_process=True)
        full_cli = timed_build(settings, "--full-refresh")
        land_events(settings, late[half:], "bench-3")
        incremental_cli = timed_build(settings, "--selector", "events")
        # dbt builds into gold_build (write-audit-publish): publish it for the reader.
        from quality.publish import publish

        publish(settings, run_id="bench-warehouse")
        with db.connect(settings, "reader") as conn:
            facts = conn.execute("select count(*) from gold.fact_user_event").fetchone()[0]
            top = conn.execute(
                "select title from gold.kpi_highest_revenue where rank = 1"
            ).fetchone()
        assert facts == len(events), (facts, len(events))
        print(f"  gold.fact_user_event rows: {facts}; highest revenue: {top[0]}")
        for label, f, i in (
            ("in process (dbtRunner)", full, incremental),
            ("`dbt` subprocess, as moviepipe transform", full_cli, incremental_cli),
        ):
            ok_full = "OK" if f <= FULL_TARGET_S else "MISSED"
            ok_inc = "OK" if i <= f / 2 else "MISSED"
            print(f"  {label}:")
            print(f"    dbt build full:                                    {f:6.1f} s"
                  f"   (target <= {FULL_TARGET_S:.0f} s)  {ok_full}")  # fmt: skip
            print(f"    dbt build --selector events after new events:     {i:6.1f} s"
                  f"   (target <= {f / 2:.1f} s, half the full build)  {ok_inc}")  # fmt: skip
    finally:
        db.drop_database(stack, name)
        with mongo.client(stack) as mc:
            mc.drop_database(name)
        shutil.rmtree(default_target_path(settings).parent, ignore_errors=True)


if __name__ == "__main__":
    main()
