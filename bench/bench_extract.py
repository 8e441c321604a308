"""Benchmark: the TMDB extractor against the local server, limited at 40 requests/s.

2,000 real movies (the Kaggle TMDB 5000 set, converted by ``kaggle_docs``) are served by
the local TMDB-shaped server with a 40 requests/s limit (429 above it), and extracted into a
database and MongoDB database of the benchmark's own, which are dropped afterwards:

1. healthy: movies/s as a ratio to the limit (target >= 0.95) with zero 429 answers;
2. 10% of answers 500/502/503: ratio (target >= 0.85) with zero lost ids.

Run alone with ``python -m bench extract``; ``MOVIEPIPE_DATA_DIR`` overrides the data path
(default ``<project>/../shared/data``).
"""

from __future__ import annotations

import uuid

from bench.kaggle import kaggle_docs
from extract.tmdb.client import TmdbClient
from extract.tmdb.dev.fakeserver import Faults, ServerStats, running_server
from extract.tmdb.load import run_tmdb_extract
from moviepipe import db, services
from moviepipe.config import load_settings

N_MOVIES = 2_000
LIMIT = 40
KEY = "bench-key"


def _scenario(settings, docs, ids, mongo_db: str, faults: Faults) -> tuple[dict, ServerStats]:
    stats = ServerStats()
    with running_server(docs, api_key=KEY, faults=faults, stats=stats) as url:
        client = TmdbClient.from_settings(
            settings.model_copy(update={"tmdb_base_url": url}), api_key=KEY, rate_limit_per_s=LIMIT
        )
        summary = run_tmdb_extract(
            settings, movie_ids=ids, mongo_db=mongo_db, client=client, progress=False
        )
    with db.connect(settings, "admin") as conn:
        landed = conn.execute(
            "select count(distinct movie_id) from raw.tmdb_movies where movie_id = any(%s)",
            (ids,),
        ).fetchone()[0]
        conn.execute("truncate raw.tmdb_movies")
        conn.commit()
    from moviepipe.services import mongo

    with mongo.client(settings) as mc:  # each scenario starts empty, like a first load
        mc[mongo_db].drop_collection("movies")
    return {"summary": summary, "landed": landed}, stats


def main() -> None:
    base = services.up(load_settings())
    data_dir = base.moviepipe_data_dir
    name = f"bench_extract_{uuid.uuid4().hex[:8]}"
    settings = base.model_copy(update={"pgdatabase": name})
    db.bootstrap(settings, name)
    try:
        docs = kaggle_docs(data_dir / "tmdb_5000")
        ids = sorted(docs)[:N_MOVIES]
        print(
            f"{len(ids)} movies (Kaggle TMDB 5000), server limit {LIMIT} req/s, client limit "
            f"{LIMIT} req/s, concurrency {settings.tunables.tmdb.concurrency}"
        )
        runs = [
            ("healthy", Faults(rate_limit_per_s=LIMIT), 0.95),
            ("10% 5xx", Faults(rate_limit_per_s=LIMIT, error_rate=0.10, seed=3), 0.85),
        ]
        for label, faults, target in runs:
            result, stats = _scenario(settings, docs, ids, name, faults)
            s = result["summary"]
            ratio = s.movies_per_s / LIMIT
            lost = len(ids) - result["landed"]
            print(
                f"{label:>8}: {s.fetched} movies in {s.elapsed_s:.1f}s = {s.movies_per_s:.2f}"
                f" movies/s, ratio {ratio:.3f} (target >= {target})"
                f" {'OK' if ratio >= target else 'MISSED'};"
                f" 429s {stats.throttled} (target 0); lost ids {lost} (target 0);"
                f" requests {s.requests}, retries {s.retries},"
                f" server 5xx {sum(n for c, n in stats.statuses.items() if c >= 500)}"
            )
    finally:
        from moviepipe.services import mongo

        with mongo.client(base) as mc:
            mc.drop_database(name)
        db.drop_database(base, name)
