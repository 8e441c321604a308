"""Benchmark: the REST API under load, ``wrk`` with 10 concurrent clients on loopback.

One uvicorn worker (``python -m serving.cli``, the ``moviepipe serve`` command) over
a gold database, and ``wrk`` (Debian's package, installed by
scripts/install-system.sh) with 2 threads and 10 connections, for
``MOVIEPIPE_BENCH_API_SECONDS`` (default 10) seconds per endpoint after a 2 s warm-up:

* ``/api/top_movies``: the rankings, cycling through periods, metrics and genres;
* ``/api/movies/search``: searches cycling through titles, genres, cast, director,
  years and every sort.

Prints p50, p99 (wrk's latency distribution), requests/s and non-2xx answers against
the targets (p50 <= 10 ms, p99 <= 25 ms, >= 1,500 req/s). wrk, the server and
PostgreSQL share the machine's 2 cores.

The database: ``MOVIEPIPE_BENCH_API_DATABASE`` (one where ``moviepipe run`` built and
published gold), else a database of its own built from the warehouse test fixtures
(the sample gold of tests/serving: a handful of movies, so the figures measure the
serving path, HTTP, validation, pool and a PostgreSQL round trip, more than query
cost), dropped at the end. Run alone: ``python -m bench api``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from moviepipe.config import Settings, load_settings

TARGET_P50_MS, TARGET_P99_MS, TARGET_RPS = 10.0, 25.0, 1500.0
CONNECTIONS, THREADS = 10, 2
TOP_MOVIES_PATHS = [
    f"/api/top_movies?period={p}&metric={m}&genre={g}&limit=10"
    for p in ("all", "7d", "30d", "90d")
    for m in ("engagement", "watch_time", "rating", "tmdb_rating")
    for g in ("all", "Action", "Drama")
]
SEARCH_PATHS = [
    "/api/movies/search?q=a&sort=popularity",
    "/api/movies/search?genre=Action&sort=rating&order=desc",
    "/api/movies/search?genre=Action&genre=Adventure&sort=revenue",
    "/api/movies/search?cast=actor&sort=release_date&order=asc",
    "/api/movies/search?director=dir&year_from=2000&year_to=2020&sort=runtime",
    "/api/movies/search?q=the%20star&limit=50",
    "/api/movies/search?year_from=1990&sort=rating&order=asc&offset=2&limit=5",
]
ENDPOINTS = (("top_movies", TOP_MOVIES_PATHS), ("movies/search", SEARCH_PATHS))
LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def wrk_script(paths: list[str]) -> str:
    """A wrk Lua script that cycles through ``paths``, one per request."""
    return LUA % ", ".join(f'"{p}"' for p in paths)


def parse_wrk(output: str) -> dict[str, float]:
    """p50/p99 in ms, requests/s and non-2xx count from ``wrk --latency`` output."""
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(pct: str) -> float:
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not m:
            raise ValueError(f"no {pct}% latency in wrk output:\n{output}")
        return float(m.group(1)) * units[m.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "rps": float(rps.group(1)) if rps else 0.0,
        "non_2xx": float(non_2xx.group(1)) if non_2xx else 0.0,
        "socket_errors": float(bool(errors)),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gold_settings() -> Iterator[Settings]:
    from moviepipe import services

    stack = services.up(load_settings())
    name = os.environ.get("MOVIEPIPE_BENCH_API_DATABASE")
    if name:
        yield stack.model_copy(update={"pgdatabase": name})
        return
    from tests.serving.gold import gold_database  # the serving tests' sample gold

    with gold_database(stack, "bench_api") as settings:
        yield settings


@contextlib.contextmanager
def served(
    module: str, args: list[str], env: dict[str, str], cwd: Path, what: str
) -> Iterator[str]:
    """``python -m module --port P args`` until its /health says ok; yields its URL."""
    port = _free_port()
    cmd = [sys.executable, "-m", module, "--port", str(port), "--log-level", "warning", *args]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=2).json().get("status") == "ok":
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {what} did not become healthy on {url}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def api_server(
    settings: Settings, cache_size: int | None
) -> contextlib.AbstractContextManager[str]:
    args = [] if cache_size is None else ["--cache-size", str(cache_size)]
    env = {"PGDATABASE": settings.pgdatabase}
    return served("serving.cli", args, env, settings.project_dir, "API")


def run_wrk(url: str, paths: list[str], seconds: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(wrk_script(paths))
    try:
        base = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", "-s", f.name, url]
        subprocess.run([*base[:1], "-d2s", *base[1:]], capture_output=True, check=True)  # warm-up
        out = subprocess.run(
            [*base[:1], f"-d{seconds}s", "--latency", *base[1:]],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        Path(f.name).unlink()
    return parse_wrk(out)


def verdict(r: dict[str, float]) -> str:
    ok = r["p50_ms"] <= TARGET_P50_MS and r["p99_ms"] <= TARGET_P99_MS and r["rps"] >= TARGET_RPS
    return "meets targets" if ok and not r["non_2xx"] else "MISSES targets"


def main() -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk not found: run scripts/install-system.sh (Debian package wrk)")
    seconds = int(os.environ.get("MOVIEPIPE_BENCH_API_SECONDS", "10"))
    with gold_settings() as settings:
        for cache, cache_size in (("cache on", None), ("cache off", 0)):
            with api_server(settings, cache_size) as url:
                for name, paths in ENDPOINTS:
                    report(f"{cache:<9} /api/{name:<14}", run_wrk(url, paths, seconds))


def report(label: str, r: dict[str, float]) -> None:
    print(
        f"{label} p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
        f"{r['rps']:8.0f} req/s  non-2xx {int(r['non_2xx'])}  "
        f"(targets p50 <= {TARGET_P50_MS:.0f} ms, p99 <= {TARGET_P99_MS:.0f} ms, "
        f">= {TARGET_RPS:,.0f} req/s; {CONNECTIONS} clients, 1 worker): {verdict(r)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
