"""Requests in a loop while the quality gate's publish swaps gold under the API: no errors.

gold_build gets a copy of gold whose ``top_movies.metric_value`` is ``double precision``
instead of ``numeric``: a prepared (cached) statement would now fail with "cached plan
must not change result type"; the API prepares nothing, so every request succeeds.
Both with the response cache (hits and misses) and without it (every request reads
PostgreSQL). Each test ends with the original gold published again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from moviepipe import db
from moviepipe.config import Settings
from moviepipe.tunables import ApiTunables
from quality import publish as pub
from serving.api import create_app
from tests.serving.api.conftest import ThreadServer

URLS = (
    "/api/top_movies?limit=5",
    "/api/movies/search?genre=Action&sort=rating",
    "/api/user_stats",
    "/api/kpis/highest_revenue",
    "/api/emotion_trends?genre=Action&granularity=week",
)
SWAPS = 4  # publish, then rollbacks: even, so the original gold is published at the end


def copy_gold_to_build(settings: Settings, *extra_sql: str) -> None:
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
        for stmt in extra_sql:
            conn.execute(stmt)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def uncached_url(api_gold: Settings) -> Iterator[str]:
    app = create_app(api_gold, ApiTunables(pool_min_size=2, response_cache_size=0))
    with ThreadServer(app) as url:
        yield url


@pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])
def test_no_request_fails_across_publishes(
    request: pytest.FixtureRequest, api_gold: Settings, cached: bool
) -> None:
    url = request.getfixturevalue("api_url" if cached else "uncached_url")
    copy_gold_to_build(api_gold)
    with httpx.Client(base_url=url, timeout=30) as c:
        baseline = {u: c.get(u).json() for u in URLS}
    failures: list[tuple[str, int, str]] = []
    answered: list[str] = []  # list.append is atomic under the GIL
    done = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            while not done.is_set():
                for u in URLS:
                    r = c.get(u)
                    answered.append(u)
                    if r.status_code != 200 or r.json() != baseline[u]:
                        failures.append((u, r.status_code, r.text[:300]))

    def after_more_requests() -> int:
        """Wait until every URL could have been asked again, so that requests really run
        between two swaps however slow the machine is; returns the count so far."""
        target = len(answered) + len(URLS)
        deadline = time.monotonic() + 60
        while len(answered) < target and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(answered)

    clients = [threading.Thread(target=hammer) for _ in range(4)]
    for t in clients:
        t.start()
    marks = [after_more_requests()]
    try:
        results = [pub.publish(api_gold, run_id="api-swap-test")]
        marks.append(after_more_requests())
        for _ in range(SWAPS - 1):
            results.append(pub.rollback(api_gold))
            marks.append(after_more_requests())
    finally:
        done.set()
        for t in clients:
            t.join(timeout=60)
    assert failures == []
    assert len({r.published_oid for r in results}) == 2
    # requests were answered before the first swap and between every two
    assert all(b - a >= len(URLS) for a, b in zip([0, *marks], marks, strict=False)), marks
    with httpx.Client(base_url=url, timeout=30) as c:
        assert c.get("/health").json()["gold_schema_oid"] == results[-1].published_oid
        assert {u: c.get(u).json() for u in URLS} == baseline


def first_title(client: httpx.Client) -> str:
    return client.get("/api/top_movies?limit=1").json()["items"][0]["title"]


def wait_for_title(client: httpx.Client, want: str) -> str:
    """The cache follows gold within its check interval (0.5 s); wait well past it."""
    deadline = time.monotonic() + 20
    while (got := first_title(client)) != want and time.monotonic() < deadline:
        time.sleep(0.1)
    return got


def test_cached_answers_follow_a_publish_and_a_rollback(api_url: str, api_gold: Settings) -> None:
    copy_gold_to_build(api_gold, "update gold_build.top_movies set title = title || ' (v2)'")
    with httpx.Client(base_url=api_url, timeout=30) as c:
        old = first_title(c)
        assert first_title(c) == old  # now a cache hit
        pub.publish(api_gold, run_id="api-cache-test")
        assert wait_for_title(c, old + " (v2)") == old + " (v2)"
        pub.rollback(api_gold)
        assert wait_for_title(c, old) == old
