"""Pure functions of the TMDB extractor: parsing, hashing, windowing, error classification."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from extract.tmdb.changes import change_windows
from extract.tmdb.client import (
    TmdbAuthError,
    TmdbNotFound,
    TmdbRequestFailed,
    TmdbRetryable,
    classify,
    parse_error_body,
    parse_retry_after,
)
from extract.tmdb.dev.fakeserver import paginate
from extract.tmdb.dev.sample import (
    SAMPLE_PATH,
    generate_movies,
    load_docs,
)
from extract.tmdb.paging import page_range, parse_movie_ids
from extract.tmdb.records import payload_hash


def test_payload_hash_ignores_key_order_but_not_values():
    a = {"id": 1, "title": "Heat", "genres": [{"id": 80, "name": "Crime"}]}
    b = {"genres": [{"name": "Crime", "id": 80}], "title": "Heat", "id": 1}
    assert payload_hash(a) == payload_hash(b)
    assert payload_hash(a) != payload_hash({**a, "title": "Heat "})
    assert len(payload_hash(a)) == 64


def test_parse_movie_ids_inline_and_file(tmp_path):
    assert parse_movie_ids("550, 299534,550,") == [550, 299534]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("550\n\n# a comment\n299534  # Endgame\n13\n", encoding="utf-8")
    assert parse_movie_ids(f"@{ids_file}") == [550, 299534, 13]


@pytest.mark.parametrize("spec", ["550,abc", "550,-3", "0", "1.5"])
def test_parse_movie_ids_rejects_bad_tokens(spec):
    with pytest.raises(ValueError, match="not a movie id"):
        parse_movie_ids(spec)


def test_parse_movie_ids_names_the_file_line(tmp_path):
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("550\nx12\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        parse_movie_ids(f"@{ids_file}")


def test_change_windows_cover_every_day_once_within_14_days():
    start, end = date(2026, 1, 1), date(2026, 3, 5)
    windows = change_windows(start, end)
    assert windows[0][0] == start and windows[-1][1] == end
    days = []
    for lo, hi in windows:
        assert (hi - lo).days <= 13
        days += [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
    assert days == [start + timedelta(days=i) for i in range((end - start).days + 1)]
    assert len(windows) == 5  # 64 days -> 14+14+14+14+8


def test_change_windows_edges():
    d = date(2026, 5, 1)
    assert change_windows(d, d) == [(d, d)]
    assert change_windows(d, d - timedelta(days=1)) == []
    assert change_windows(d, d + timedelta(days=13)) == [(d, d + timedelta(days=13))]
    assert len(change_windows(d, d + timedelta(days=14))) == 2


def test_page_range_respects_total_and_cap():
    assert list(page_range(3, 10)) == [1, 2, 3]
    assert list(page_range(50, 4)) == [1, 2, 3, 4]
    assert page_range(1000, 900)[-1] == 500
    assert list(page_range(5, 0)) == []


def test_paginate_like_tmdb():
    items = list(range(45))
    first = paginate(items, 1, 20)
    assert first["total_pages"] == 3 and first["total_results"] == 45
    assert paginate(items, 3, 20)["results"] == list(range(40, 45))
    assert paginate(items, 4, 20)["results"] == []


def test_classify_reads_tmdb_error_bodies():
    body = '{"success": false, "status_code": %d, "status_message": "x"}'
    assert classify(200, "{}", None) is None
    assert isinstance(classify(401, body % 7, None), TmdbAuthError)
    # The body's code wins even when the HTTP status is unusual.
    assert isinstance(classify(403, body % 7, None), TmdbAuthError)
    assert isinstance(classify(404, body % 34, None), TmdbNotFound)
    throttled = classify(429, body % 25, "3")
    assert isinstance(throttled, TmdbRetryable) and throttled.retry_after == 3.0
    assert isinstance(classify(502, "<html>Bad Gateway</html>", None), TmdbRetryable)
    assert isinstance(classify(422, body % 47, None), TmdbRequestFailed)


def test_parse_helpers_tolerate_junk():
    assert parse_error_body("<html>oops</html>") == (None, "<html>oops</html>")
    assert parse_error_body('{"status_code": 34, "status_message": "gone"}') == (34, "gone")
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after("999") == 60.0


def test_synthetic_sample_is_deterministic_and_committed():
    docs = generate_movies()
    assert docs == generate_movies()
    committed = load_docs(SAMPLE_PATH)
    assert {d["id"]: d for d in docs} == committed
    assert len(committed) == 300
    assert SAMPLE_PATH.stat().st_size < 3_000_000


def test_synthetic_sample_has_the_awkward_cases():
    docs = generate_movies()
    assert any(d["belongs_to_collection"] for d in docs)
    franchises = {}
    for d in docs:
        if d["belongs_to_collection"]:
            franchises.setdefault(d["belongs_to_collection"]["id"], []).append(d["id"])
    assert max(len(v) for v in franchises.values()) >= 2
    assert any(d["budget"] == 0 for d in docs)
    assert any(d["revenue"] == 0 for d in docs)
    assert any(d["release_date"] == "" for d in docs)
    assert any("imdb_id" not in d for d in docs)
    assert any(d["runtime"] in (None, 0) for d in docs)
    for d in docs:
        assert set(d["credits"]) == {"cast", "crew"}
        assert "keywords" in d["keywords"] and "results" in d["release_dates"]
    assert any(c["job"] == "Director" for d in docs for c in d["credits"]["crew"])
