"""The response cache alone: versions, eviction, what is kept."""

from __future__ import annotations

from serving.api.cache import ResponseCache


def test_cache_keeps_bodies_of_the_current_version_only() -> None:
    cache = ResponseCache(size=10)
    cache.put(None, "/a", b"1")  # unknown version: nothing is cached
    assert cache.get("/a") is None
    cache.set_version(7)
    cache.put(7, "/a", b"1")
    cache.put(6, "/b", b"2")  # read under an older version
    assert cache.get("/a") == b"1" and cache.get("/b") is None
    cache.set_version(7)  # same version: kept
    assert cache.get("/a") == b"1"
    cache.set_version(8)  # a publish: everything goes
    assert cache.get("/a") is None and len(cache) == 0
    cache.set_version(None)  # database unreachable: nothing cached either
    cache.put(None, "/a", b"1")
    assert len(cache) == 0


def test_least_recently_used_leave_first_and_size_zero_disables() -> None:
    cache = ResponseCache(size=2)
    cache.set_version(1)
    cache.put(1, "/a", b"a")
    cache.put(1, "/b", b"b")
    assert cache.get("/a") == b"a"  # /a is now the most recent
    cache.put(1, "/c", b"c")
    assert cache.get("/b") is None and cache.get("/a") == b"a" and cache.get("/c") == b"c"
    off = ResponseCache(size=0)
    off.set_version(1)
    off.put(1, "/a", b"a")
    assert off.get("/a") is None
