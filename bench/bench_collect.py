"""Benchmark: the event collector under load, ``wrk`` POSTing batches of 100 events.

One uvicorn worker (``python -m streaming.collector.cli``, the ``moviepipe collect``
command) on topics of its own (a ``bench_collect_<random>_`` prefix, deleted at
the end), and ``wrk`` with 2 threads and 10 connections POSTing the same
100-event batch (the four event types, ``json.dumps`` formatting) for
``MOVIEPIPE_BENCH_COLLECT_SECONDS`` (default 10) seconds after a 2 s warm-up.
Every 202 means Kafka confirmed all 100 events (the collector waits for the
delivery reports), and the topics' end offsets are checked against the count.

Prints events/s, requests/s, p50/p99 per request and non-2xx answers against the
target (>= 5,000 events/s); then the same with one connection, for a request's
latency without queueing. wrk, the collector, Kafka and its clients share the
machine's 2 cores. Run alone: ``python -m bench collect``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.bench_api import CONNECTIONS, THREADS, parse_wrk, served
from moviepipe.config import Settings, load_settings

TARGET_EVENTS_PER_S = 5000.0
BATCH = 100
LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[%s]==]
"""
PAYLOADS = {
    "watch": {"position_s": 1200.0, "duration_s": 5400.0, "watched_s": 600.0},
    "click": {"target": "poster", "page": "/browse"},
    "comment": {"comment_id": "c-1", "text": "Great ending, slow start.", "rating": 4.5},
    "movie_update": {"action": "update", "fields": {"popularity": 12.5}},
}


def batch_body(n: int = BATCH) -> bytes:
    """``n`` valid events of the four types, as a front end's ``json.dumps`` writes them."""
    ts = datetime.now(UTC) - timedelta(minutes=5)
    types = list(PAYLOADS)
    docs = [
        {"event_id": str(uuid.uuid4()), "event_type": types[i % 4],
         "event_ts": (ts + timedelta(seconds=i)).isoformat(), "user_id": str(1000 + i % 37),
         "session_id": f"s-{i % 7}", "movie_id": 600 + i % 50, "payload": PAYLOADS[types[i % 4]]}
        for i in range(n)
    ]  # fmt: skip
    return json.dumps(docs).encode()


def collector(settings: Settings) -> contextlib.AbstractContextManager[str]:
    env = {"MOVIEPIPE_TOPIC_PREFIX": settings.moviepipe_topic_prefix}
    return served("streaming.collector.cli", [], env, settings.project_dir, "collector")


def run_wrk(
    url: str, body: bytes, seconds: int, connections: int = CONNECTIONS
) -> tuple[dict[str, float], int]:
    """wrk's figures and the requests it completed (warm-up included)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % body.decode())
    try:
        threads = min(THREADS, connections)
        base = ["wrk", f"-t{threads}", f"-c{connections}", "-s", f.name, f"{url}/events"]
        warm = subprocess.run([*base[:1], "-d2s", *base[1:]], capture_output=True, text=True)
        out = subprocess.run(
            [*base[:1], f"-d{seconds}s", "--latency", *base[1:]],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        Path(f.name).unlink()
    requests = sum(_requests(o) for o in (warm.stdout, out))
    return parse_wrk(out), requests


def _requests(output: str) -> int:
    m = re.search(r"(\d+) requests in", output)
    return int(m.group(1)) if m else 0


def main() -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk not found: run scripts/install-system.sh (Debian package wrk)")
    from moviepipe import services
    from moviepipe.services import kafka
    from streaming.kafka_io import end_offsets

    seconds = int(os.environ.get("MOVIEPIPE_BENCH_COLLECT_SECONDS", "10"))
    stack = services.up(load_settings())
    settings = stack.model_copy(
        update={"moviepipe_topic_prefix": f"bench_collect_{uuid.uuid4().hex[:6]}_"}
    )
    kafka.ensure_topics(settings)
    admin = kafka.admin_client(settings)
    try:
        with collector(settings) as url:
            r, requests = run_wrk(url, batch_body(), seconds)
            in_kafka = sum(end_offsets(admin, settings.topics).values())
            report(r, requests, in_kafka, CONNECTIONS)
            # one client: a request's own latency, without queueing behind nine others
            r, requests = run_wrk(url, batch_body(), seconds, connections=1)
            in_kafka = sum(end_offsets(admin, settings.topics).values()) - in_kafka
            report(r, requests, in_kafka, 1)
    finally:
        for fut in admin.delete_topics(settings.topics, operation_timeout=30).values():
            with contextlib.suppress(Exception):
                fut.result()


def report(r: dict[str, float], requests: int, in_kafka: int, clients: int) -> None:
    events_per_s = r["rps"] * BATCH
    ok = events_per_s >= TARGET_EVENTS_PER_S and not r["non_2xx"] and not r["socket_errors"]
    print(
        f"collect POST /events ({BATCH}-event batches) {events_per_s:8.0f} events/s  "
        f"{r['rps']:6.0f} req/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
        f"non-2xx {int(r['non_2xx'])}  events in Kafka {in_kafka:,} "
        f"(wrk completed {requests * BATCH:,})  (target >= {TARGET_EVENTS_PER_S:,.0f} events/s; "
        f"{clients} client(s), 1 worker): {'meets target' if ok else 'MISSES target'}",
        flush=True,
    )


if __name__ == "__main__":
    main()
