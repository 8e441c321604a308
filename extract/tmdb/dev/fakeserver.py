"""A TMDB-shaped local HTTP server with TMDB's failure modes, for tests, benchmarks and demos.

No machine here can reach TMDB, so the extractor is exercised against this server. It serves,
under ``/3`` like the real API:

* ``/movie/{id}`` (with ``append_to_response=credits,keywords,release_dates``), 404/code 34
  for unknown ids;
* ``/discover/movie`` and ``/movie/popular``: 20 results a page, by popularity, page cap 500;
* ``/movie/changes?start_date&end_date&page``: 100 ids a page, windows over 14 days rejected;

from a directory of ``<id>.json`` documents or a ``.jsonl(.gz)`` file (see ``sample.py``).
Every request needs the key (``api_key`` or ``Authorization: Bearer``), else 401/code 7.
:class:`Faults` injects, on request: a rate limit answering 429 with ``Retry-After`` (a token
bucket of N requests refilled at N/s), a share of 500/502/503, slow answers, truncated bodies,
and scripted answers per movie id for deterministic tests.

Usage::

    with running_server("docs/", api_key="k", faults=Faults(error_rate=0.1)) as base_url:
        requests.get(f"{base_url}/movie/550", params={"api_key": "k"})

    moviepipe extract tmdb-server --docs extract/tmdb/dev/sample_data/movies.jsonl.gz --port 58090
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from extract.tmdb.dev.sample import load_docs

PAGE_SIZE = 20
CHANGES_PAGE_SIZE = 100
MAX_PAGE = 500
MAX_CHANGES_DAYS = 14
APPENDABLE = ("credits", "keywords", "release_dates")
LIST_FIELDS = [
    "adult",
    "backdrop_path",
    "id",
    "original_language",
    "original_title",
    "overview",
    "popularity",
    "poster_path",
    "release_date",
    "title",
    "video",
    "vote_average",
    "vote_count",
]

ERRORS: dict[int, tuple[int, str]] = {
    401: (7, "Invalid API key: You must be granted a valid key."),
    404: (34, "The resource you requested could not be found."),
    422: (47, "The input is not valid."),
    400: (22, "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer."),
    429: (25, "Your request count (#) is over the allowed limit of (40)."),
    500: (11, "Internal error: Something went wrong, contact TMDB."),
    503: (9, "Service offline: This service is temporarily offline, try again later."),
}
BAD_GATEWAY_HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@dataclass
class Faults:
    """Failure injection. Random shares use ``seed``, so a run is reproducible.

    ``script`` maps a movie id to the answers of its first detail requests, in order:
    an HTTP status (e.g. 503), ``"slow"``, ``"truncate"`` or ``"ok"``; later requests are
    answered normally. ``always`` maps a movie id to a status returned on every request.
    """

    rate_limit_per_s: float | None = None
    retry_after_s: int = 1
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    slow_rate: float = 0.0
    slow_s: float = 2.0
    truncate_rate: float = 0.0
    script: dict[int, list[int | str]] = field(default_factory=dict)
    always: dict[int, int] = field(default_factory=dict)
    seed: int = 0


@dataclass
class ServerStats:
    """What the server answered: totals, per status, and detail requests per movie id."""

    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    detail_requests: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, status: int, movie_id: int | None = None) -> None:
        with self._lock:
            self.requests += 1
            self.statuses[status] += 1
            if movie_id is not None:
                self.detail_requests[movie_id] += 1

    @property
    def throttled(self) -> int:
        return self.statuses[429]


class TokenBucket:
    """``rate`` tokens refilled per second, at most ``rate`` banked: TMDB-like burst tolerance."""

    def __init__(self, rate: float):
        self.rate = rate
        self.tokens = rate
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


def default_changes(ids: list[int], today: date) -> dict[date, list[int]]:
    """Deterministic change dates when none are given: id ``i`` changed ``i % 30`` days ago."""
    out: dict[date, list[int]] = {}
    for movie_id in ids:
        out.setdefault(today - timedelta(days=movie_id % 30), []).append(movie_id)
    return out


def list_item(doc: dict[str, Any]) -> dict[str, Any]:
    item = {k: doc.get(k) for k in LIST_FIELDS}
    item["genre_ids"] = [g["id"] for g in doc.get("genres") or []]
    return item


def paginate(items: list[Any], page: int, size: int) -> dict[str, Any]:
    total_pages = min(max(math.ceil(len(items) / size), 1), MAX_PAGE)
    start = (page - 1) * size
    return {
        "page": page,
        "results": items[start : start + size] if page <= total_pages else [],
        "total_pages": total_pages,
        "total_results": len(items),
    }


class FakeTmdb:
    """The state behind the handler: documents, key, faults, stats, change log."""

    def __init__(
        self,
        docs: dict[int, dict[str, Any]],
        *,
        api_key: str,
        read_access_token: str | None = None,
        faults: Faults | None = None,
        stats: ServerStats | None = None,
        changes: dict[date, list[int]] | None = None,
    ):
        self.docs = docs
        self.api_key = api_key
        self.read_access_token = read_access_token or api_key
        self.faults = faults or Faults()
        self.stats = stats if stats is not None else ServerStats()
        self.changes = (
            changes if changes is not None else default_changes(sorted(docs), date.today())
        )
        self.bucket = (
            TokenBucket(self.faults.rate_limit_per_s) if self.faults.rate_limit_per_s else None
        )
        self.rng = random.Random(self.faults.seed)
        self.lock = threading.Lock()
        self.script = {k: list(v) for k, v in self.faults.script.items()}
        self.by_popularity = sorted(
            docs.values(), key=lambda d: (-(d.get("popularity") or 0), d["id"])
        )
        self.truncations = 0

    def next_scripted(self, movie_id: int | None) -> int | str | None:
        with self.lock:
            queue = self.script.get(movie_id) if movie_id is not None else None
            return queue.pop(0) if queue else None

    def random_fault(self) -> int | str | None:
        f = self.faults
        with self.lock:
            roll = self.rng.random()
            if roll < f.error_rate:
                return self.rng.choice(f.error_statuses)
            roll -= f.error_rate
            if roll < f.slow_rate:
                return "slow"
            roll -= f.slow_rate
            if roll < f.truncate_rate:
                return "truncate"
        return None


def error_body(status: int) -> bytes:
    code, message = ERRORS.get(status, (11, "Internal error."))
    return json.dumps({"success": False, "status_code": code, "status_message": message}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind its CDN
    # Headers and body go out in separate writes: without this, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every keep-alive answer.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and benchmarks read ServerStats instead

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        movie_id: int | None = None,
        headers: dict[str, str] | None = None,
        truncate: bool = False,
    ) -> None:
        state = self.server.state
        state.stats.record(status, movie_id)
        sent = body
        declared = len(body)
        if truncate:
            sent = body[: max(len(body) // 2, 1)]
            with state.lock:
                state.truncations += 1
                # Alternate the two ways a body arrives cut short: the connection drops before
                # the declared length, or the declared length itself is short (invalid JSON).
                declared = len(body) if state.truncations % 2 else len(sent)
        try:
            self.send_response(status)
            ctype = "text/html" if body is BAD_GATEWAY_HTML else "application/json;charset=utf-8"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(declared))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if truncate and declared != len(sent):
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(sent)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout): nothing to answer

    def _error(self, status: int, movie_id: int | None = None, **kw: Any) -> None:
        body = BAD_GATEWAY_HTML if status == 502 else error_body(status)
        self._send(status, body, movie_id=movie_id, **kw)

    def _authorized(self, query: dict[str, list[str]]) -> bool:
        state = self.server.state
        key = (query.get("api_key") or [None])[0]
        if key is not None:
            return key == state.api_key
        auth = self.headers.get("Authorization", "")
        return auth == f"Bearer {state.read_access_token}"

    def do_GET(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        path = parts.path.removeprefix("/3")
        movie_id = None
        segments = path.strip("/").split("/")
        if len(segments) == 2 and segments[0] == "movie" and segments[1].isdigit():
            movie_id = int(segments[1])
        if not self._authorized(query):
            self._error(401, movie_id)
            return
        if state.bucket is not None and not state.bucket.take():
            self._error(429, movie_id, headers={"Retry-After": str(state.faults.retry_after_s)})
            return
        if movie_id is not None and movie_id in state.faults.always:
            self._error(state.faults.always[movie_id], movie_id)
            return
        fault = state.next_scripted(movie_id) or state.random_fault()
        if isinstance(fault, int) and fault != 200:
            self._error(fault, movie_id)
            return
        if fault == "slow":
            time.sleep(state.faults.slow_s)
        try:
            status, body = self.route(path, movie_id, query)
        except ValueError:
            status, body = 422, None
        if body is None:
            self._error(status, movie_id)
            return
        self._send(
            status, json.dumps(body).encode(), movie_id=movie_id, truncate=fault == "truncate"
        )

    def route(
        self, path: str, movie_id: int | None, query: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any] | None]:
        state = self.server.state
        one = {k: v[0] for k, v in query.items()}
        if movie_id is not None:
            doc = state.docs.get(movie_id)
            if doc is None:
                return 404, None
            wanted = {a.strip() for a in one.get("append_to_response", "").split(",")}
            return 200, {k: v for k, v in doc.items() if k not in APPENDABLE or k in wanted}
        page = int(one.get("page", "1"))
        if page < 1 or page > MAX_PAGE:
            return 400, None
        if path == "/discover/movie":
            return 200, paginate([list_item(d) for d in state.by_popularity], page, PAGE_SIZE)
        if path == "/movie/popular":
            released = [d for d in state.by_popularity if d.get("status") == "Released"]
            return 200, paginate([list_item(d) for d in released], page, PAGE_SIZE)
        if path == "/movie/changes":
            end = date.fromisoformat(one["end_date"]) if "end_date" in one else date.today()
            start = (
                date.fromisoformat(one["start_date"])
                if "start_date" in one
                else end - timedelta(days=1)
            )
            if start > end or (end - start).days > MAX_CHANGES_DAYS:
                return 422, None
            ids = sorted(
                {
                    i
                    for day, day_ids in state.changes.items()
                    if start <= day <= end
                    for i in day_ids
                }
            )
            items = [{"id": i, "adult": False} for i in ids]
            return 200, paginate(items, page, CHANGES_PAGE_SIZE)
        return 404, None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    state: FakeTmdb


def make_server(state: FakeTmdb, host: str = "127.0.0.1", port: int = 0) -> _Server:
    server = _Server((host, port), Handler)
    server.state = state
    return server


@contextmanager
def running_server(
    docs: str | Path | dict[int, dict[str, Any]],
    *,
    api_key: str,
    read_access_token: str | None = None,
    faults: Faults | None = None,
    stats: ServerStats | None = None,
    changes: dict[date, list[int]] | None = None,
    port: int = 0,
) -> Iterator[str]:
    """Serve ``docs`` (a path or ``{id: doc}``) on 127.0.0.1; yields the base URL (``.../3``)."""
    documents = docs if isinstance(docs, dict) else load_docs(docs)
    state = FakeTmdb(
        documents,
        api_key=api_key,
        read_access_token=read_access_token,
        faults=faults,
        stats=stats,
        changes=changes,
    )
    server = make_server(state, port=port)
    thread = threading.Thread(target=server.serve_forever, name="fake-tmdb", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/3"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
