"""Requests in a loop while the quality gate's publish swaps gold under the API: no errors.

gold_build gets a copy of gold whose ``top_movies.metric_value`` is ``double precision``
instead of ``numeric``: a prepared (cached) statement would now fail with "cached plan
must not change result type"; the API prepares nothing, so every request succeeds.
"""

from __future__ import annotations

import threading

import httpx

from moviepipe import db
from moviepipe.config import Settings
from quality import publish as pub

URLS = (
    "/api/top_movies?limit=5",
    "/api/movies/search?genre=Action&sort=rating",
    "/api/user_stats",
    "/api/kpis/highest_revenue",
    "/api/emotion_trends?genre=Action&granularity=week",
)
SWAPS = 5  # odd: gold ends on the copy, so the schema oid before and after differ


def copy_gold_to_build(settings: Settings) -> None:
    pub.ensure_schemas(settings)
    with db.connect(settings, "transformer", autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select tablename from pg_tables where schemaname = 'gold' order by 1"
            )
        ]
        for t in tables:
            conn.execute(f'drop table if exists gold_build."{t}" cascade')  # type: ignore[arg-type]
            conn.execute(f'create table gold_build."{t}" as table gold."{t}"')  # type: ignore[arg-type]
        conn.execute(
            "alter table gold_build.top_movies alter column metric_value type double precision"
        )


def test_no_request_fails_across_publishes(api_url: str, api_gold: Settings) -> None:
    copy_gold_to_build(api_gold)
    with httpx.Client(base_url=api_url, timeout=30) as c:
        baseline = {u: c.get(u).json() for u in URLS}
        oid_before = c.get("/health").json()["gold_schema_oid"]
    failures: list[tuple[str, int, str]] = []
    counts = [0]
    done = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=api_url, timeout=30) as c:
            while not done.is_set():
                for u in URLS:
                    r = c.get(u)
                    counts[0] += 1
                    if r.status_code != 200 or r.json() != baseline[u]:
                        failures.append((u, r.status_code, r.text[:300]))

    clients = [threading.Thread(target=hammer) for _ in range(4)]
    for t in clients:
        t.start()
    try:
        results = [pub.publish(api_gold, run_id="api-swap-test")]
        results += [pub.rollback(api_gold) for _ in range(SWAPS - 1)]
    finally:
        done.set()
        for t in clients:
            t.join(timeout=60)
    assert failures == []
    assert len({r.published_oid for r in results}) == 2
    with httpx.Client(base_url=api_url, timeout=30) as c:
        assert c.get("/health").json()["gold_schema_oid"] == results[-1].published_oid
        assert results[-1].published_oid != oid_before
        assert {u: c.get(u).json() for u in URLS} == baseline
    assert counts[0] > len(URLS) * 4
