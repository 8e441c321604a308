"""The TMDB client against the local TMDB-shaped server and each injected failure mode."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from extract.tmdb.client import TmdbAuthError, TmdbClient, TmdbNotFound, TmdbRequestFailed
from extract.tmdb.dev.fakeserver import Faults, ServerStats, running_server
from extract.tmdb.dev.sample import generate_movies

pytestmark = pytest.mark.integration

KEY = "client-test-key"
DOCS = {d["id"]: d for d in generate_movies(60, seed=7)}
IDS = sorted(DOCS)


def make_client(url: str, **kw) -> TmdbClient:
    options = {"api_key": KEY, "rate_limit_per_s": 500, "backoff_base_s": 0.01, "timeout_s": 5}
    options.update(kw)
    return TmdbClient(url, **options)


def test_details_with_appends_as_stored():
    with running_server(DOCS, api_key=KEY) as url:
        movie = make_client(url).movie_details(IDS[0])
    assert movie == DOCS[IDS[0]]
    assert {"credits", "keywords", "release_dates"} <= movie.keys()


def test_bearer_token_is_accepted():
    with running_server(DOCS, api_key=KEY, read_access_token="tok") as url:
        client = TmdbClient(url, read_access_token="tok", rate_limit_per_s=100)
        assert client.movie_details(IDS[1])["id"] == IDS[1]
        assert "api_key" not in client._params


def test_5xx_and_html_502_are_retried_until_success():
    stats = ServerStats()
    faults = Faults(script={IDS[0]: [503, 502, 500]})
    with running_server(DOCS, api_key=KEY, faults=faults, stats=stats) as url:
        client = make_client(url)
        assert client.movie_details(IDS[0])["id"] == IDS[0]
    assert stats.detail_requests[IDS[0]] == 4
    assert client.stats.snapshot() == {"requests": 4, "retries": 3, "throttled": 0}


def test_truncated_bodies_both_ways_are_retried():
    stats = ServerStats()
    # Two truncations: one drops the connection early, one declares a short length.
    faults = Faults(script={IDS[0]: ["truncate", "truncate"]})
    with running_server(DOCS, api_key=KEY, faults=faults, stats=stats) as url:
        client = make_client(url)
        assert client.movie_details(IDS[0]) == DOCS[IDS[0]]
    assert stats.detail_requests[IDS[0]] == 3
    assert client.stats.retries == 2


def test_slow_answer_times_out_and_is_retried():
    faults = Faults(script={IDS[0]: ["slow"]}, slow_s=1.5)
    with running_server(DOCS, api_key=KEY, faults=faults) as url:
        client = make_client(url, timeout_s=0.3)
        assert client.movie_details(IDS[0])["id"] == IDS[0]
    assert client.stats.retries == 1


def test_unknown_id_is_not_found_without_retry():
    stats = ServerStats()
    with running_server(DOCS, api_key=KEY, stats=stats) as url:
        client = make_client(url)
        with pytest.raises(TmdbNotFound) as err:
            client.movie_details(1)
    assert err.value.code == 34 and err.value.status == 404
    assert stats.detail_requests[1] == 1


def test_persistent_5xx_gives_up_after_bounded_retries():
    stats = ServerStats()
    faults = Faults(always={IDS[0]: 500})
    with running_server(DOCS, api_key=KEY, faults=faults, stats=stats) as url:
        client = make_client(url, max_retries=3)
        with pytest.raises(TmdbRequestFailed, match="gave up"):
            client.movie_details(IDS[0])
    assert stats.detail_requests[IDS[0]] == 4


def test_bad_key_fails_at_once():
    stats = ServerStats()
    with running_server(DOCS, api_key=KEY, stats=stats) as url:
        client = make_client(url, api_key="wrong")
        with pytest.raises(TmdbAuthError) as err:
            client.movie_details(IDS[0])
    assert err.value.code == 7
    assert stats.requests == 1


def test_missing_credentials_are_refused():
    with pytest.raises(TmdbAuthError, match="TMDB_API_KEY"):
        TmdbClient("http://127.0.0.1:9/3")


def test_429_waits_retry_after_and_loses_nothing():
    stats = ServerStats()
    faults = Faults(rate_limit_per_s=5, retry_after_s=1)
    with running_server(DOCS, api_key=KEY, faults=faults, stats=stats) as url:
        client = make_client(url, rate_limit_per_s=100)
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(client.movie_details, IDS[:15]))
    assert [m["id"] for m in got] == IDS[:15]
    assert stats.throttled > 0
    assert client.stats.throttled == stats.throttled


def test_client_rate_limit_avoids_429():
    stats = ServerStats()
    faults = Faults(rate_limit_per_s=20)
    with running_server(DOCS, api_key=KEY, faults=faults, stats=stats) as url:
        client = make_client(url, rate_limit_per_s=20)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(client.movie_details, IDS[:50]))
    assert stats.statuses[200] == 50
    assert stats.throttled == 0


def test_discover_pages_and_page_cap():
    with running_server(DOCS, api_key=KEY) as url:
        client = make_client(url)
        first = client.get("/discover/movie", {"page": 1})
        assert first["total_pages"] == 3 and len(first["results"]) == 20
        pops = [r["popularity"] for r in first["results"]]
        assert pops == sorted(pops, reverse=True)
        with pytest.raises(TmdbRequestFailed) as err:
            client.get("/discover/movie", {"page": 501})
    assert err.value.code == 22


def test_changes_window_over_14_days_is_rejected():
    changes = {date(2026, 1, 3): [IDS[0]], date(2026, 1, 20): [IDS[1]]}
    with running_server(DOCS, api_key=KEY, changes=changes) as url:
        client = make_client(url)
        ok = client.get("/movie/changes", {"start_date": "2026-01-01", "end_date": "2026-01-14"})
        assert [r["id"] for r in ok["results"]] == [IDS[0]]
        with pytest.raises(TmdbRequestFailed) as err:
            client.get("/movie/changes", {"start_date": "2026-01-01", "end_date": "2026-01-31"})
    assert err.value.status == 422


def test_connection_refused_is_retried_then_failed():
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}/3", max_retries=2)
    with pytest.raises(TmdbRequestFailed, match="connection error"):
        client.movie_details(IDS[0])
    assert client.stats.snapshot() == {"requests": 3, "retries": 2, "throttled": 0}
