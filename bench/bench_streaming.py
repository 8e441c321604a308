"""Streaming benchmark: Spark landing, COPY baseline, continuous latency, pandas fallback, memory.

Run alone with ``.venv/bin/python -m bench streaming``. It uses a database and
topics of its own and removes them at the end. Sizes and parts are parameters
(on a 2-core machine the default run takes a few minutes):

* ``BENCH_STREAM_SIZES``           landing sizes (default "300000,500000"; add 2000000
                                   for the issue's 2M, opt-in: about a minute a format)
* ``BENCH_STREAM_FORMATS``         "canonical,non-canonical" (bench/event_formats.py)
* ``BENCH_STREAM_PARTS``           "landing,latency,fallback" (any subset)
* ``BENCH_STREAM_FALLBACK_SIZES``  backlogs for the fallback (default "300000,1000000";
                                   the first also with non-canonical events)
* ``BENCH_STREAM_LATENCY_S``       seconds of 1k events/s for the latency run (default 30)

Figures printed, each with its target:

* landing throughput (``land --available-now``) per size and format, events/s and
  as a ratio to a plain COPY of the same rows into the same table in the same run:
  with start-up (the process's wall time), the query run (ops.run_log) and the
  steady state (first to last batch commit);
* continuous-mode latency at 1k events/s, produce time to row visible, p50/p99;
* fallback throughput (the run as ops.run_log times it, and as a ratio to COPY) and
  peak memory at each backlog;
* Spark driver peak memory (peak resident memory of the JVM plus the Python driver).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.event_formats import FORMATS, as_messages
from bench.peak_memory import PeakMemory

MOVIEPIPE = Path(sys.executable).parent / "moviepipe"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def _line(name: str, value: str, target: str, ok: bool | None) -> None:
    mark = "" if ok is None else ("  OK" if ok else "  MISSED")
    print(f"  {name:<44} {value:>22}   target {target}{mark}", flush=True)


def _settings_for(base, prefix: str):
    from moviepipe.services import kafka

    s = base.model_copy(update={"moviepipe_topic_prefix": prefix})
    kafka.ensure_topics(s)
    return s


def _env(settings) -> dict[str, str]:
    return {**os.environ, "PGDATABASE": settings.pgdatabase,
            "MOVIEPIPE_TOPIC_PREFIX": settings.moviepipe_topic_prefix}  # fmt: skip


def _produce(settings, rules, n: int, seed: int, fmt: str = "canonical") -> float:
    from streaming.producer import produce
    from streaming.sources import simulate_events

    start = datetime(2024, 4, 1, tzinfo=UTC)
    events = simulate_events(n, seed, start=start)
    t0 = time.monotonic()
    summary = produce(settings, rules, as_messages(settings, rules, events, FORMATS[fmt]))
    assert summary["failed"] == 0, summary
    return time.monotonic() - t0


def _count(settings, table: str) -> int:
    from moviepipe import db

    with db.connect(settings, "admin") as conn:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]


def _run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = PeakMemory(proc.pid)
        sampler.start()
        rc = proc.wait()
        peak = sampler.stop()
        out.seek(0)
        text = out.read().decode(errors="replace")
    if rc != 0:
        raise RuntimeError(f"{cmd} failed:\n{text[-3000:]}")
    return time.monotonic() - t0, peak, text


def _last_json(text: str) -> dict:
    start = text.rindex("\n{") + 1 if "\n{" in text else text.index("{")
    return json.loads(text[start:])


def bench_landing(settings, rules, n: int, ckpt: Path, fmt: str = "canonical") -> dict:
    from moviepipe import db

    produce_s = _produce(settings, rules, n, seed=1, fmt=fmt)
    print(f"  produced {n:,} {fmt} events in {produce_s:.1f}s", flush=True)
    cmd = [str(MOVIEPIPE), "stream", "land", "--available-now", "--json"]
    cmd += ["--checkpoint-dir", str(ckpt)]
    wall, peak, text = _run_measured(cmd, _env(settings))
    summary = _last_json(text)
    with db.connect(settings, "admin") as conn:
        first, last = conn.execute(
            "select min(committed_at), max(committed_at) from ops.stream_batches"
            " where sink like %s",
            (f"spark.user_events@{_query_id(ckpt)}",),
        ).fetchone()
    landed = _count(settings, "raw.user_events")
    assert landed == n, (landed, n)
    return {"wall_s": wall, "landing_s": _run_seconds(settings, summary["run_id"]),
            "batches_s": (last - first).total_seconds(), "peak_mem": peak,
            "batches": summary["batches"]}  # fmt: skip


def _query_id(ckpt: Path) -> str:
    return json.loads((ckpt / "metadata").read_text())["id"]


def bench_copy(settings) -> float:
    """Seconds for a plain COPY of the landed rows back into the (emptied) same table."""
    from moviepipe import db

    with db.connect(settings, "admin") as conn:
        buf = io.BytesIO()
        with conn.cursor().copy("copy (select * from raw.user_events) to stdout") as cp:
            for chunk in cp:
                buf.write(chunk)
        conn.execute("truncate raw.user_events")
        conn.commit()
        t0 = time.monotonic()
        with conn.cursor().copy("copy raw.user_events from stdin") as cp:
            view = buf.getbuffer()
            for i in range(0, len(view), 1 << 20):
                cp.write(view[i : i + (1 << 20)])
        conn.commit()
        elapsed = time.monotonic() - t0
        conn.execute("truncate raw.user_events")  # the latency run starts from an empty table
        conn.commit()
        return elapsed


def bench_fallback(settings, rules, n: int, seed: int, fmt: str = "canonical") -> dict:
    _produce(settings, rules, n, seed, fmt)
    code = (
        "import json, resource, sys\n"
        "from moviepipe.config import load_settings\n"
        "from moviepipe.rules import load_rules\n"
        "from streaming.fallback import run_fallback\n"
        "r = run_fallback(load_settings(), load_rules(), available_now=True)\n"
        "r['maxrss'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "print(json.dumps(r))\n"
    )
    wall, peak, text = _run_measured([sys.executable, "-c", code], _env(settings))
    summary = _last_json(text)
    assert summary["landed"] == n, summary
    return {"wall_s": wall, "run_s": _run_seconds(settings, summary["run_id"]),
            "maxrss": summary["maxrss"], "peak_mem": peak}  # fmt: skip


def _run_seconds(settings, run_id: str) -> float:
    """The run as ops.run_log timed it: from its logged start to its logged finish."""
    from moviepipe import db

    with db.connect(settings, "admin") as conn:
        started, finished = conn.execute(
            "select started_at, finished_at from ops.run_log where run_id = %s", (run_id,)
        ).fetchone()
    return (finished - started).total_seconds()


def bench_latency(settings, rules, seconds: int, ckpt: Path) -> dict:
    from moviepipe import db
    from streaming.producer import make_producer, produce
    from streaming.sources import simulate_events

    proc = subprocess.Popen(
        [str(MOVIEPIPE), "stream", "land", "--checkpoint-dir", str(ckpt)],
        env=_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    sampler = PeakMemory(proc.pid)
    sampler.start()
    produced: dict[str, float] = {}
    seen: dict[str, float] = {}
    try:
        # warm up: the query is running once a first event is visible
        producer = make_producer(settings)
        warm = [dict(e, event_ts=datetime.now(UTC).isoformat()) for e in simulate_events(1, 99)]
        produce(settings, rules, warm, producer=producer)
        deadline = time.monotonic() + 180
        while _count(settings, "raw.user_events") == 0:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("continuous landing did not start")
            time.sleep(0.2)
        t_start = datetime.now(UTC)
        events = list(simulate_events(seconds * 1000, 123, start=datetime.now(UTC)))

        def stamp(event: dict) -> None:
            produced[event["event_id"]] = time.time()

        # event_ts of the simulator runs ahead of the clock; keep them in the past
        for e in events:
            e["event_ts"] = datetime.now(UTC).isoformat()
        produce(settings, rules, events, rate=1000, producer=producer, on_sent=stamp)
        deadline = time.monotonic() + 120
        while _count(settings, "raw.user_events") < len(produced) + 1:
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        # A task's rows carry ingested_at = now() of the task's transaction; the first
        # heartbeat after it (written once every task of the batch has committed) bounds
        # the time the rows became visible from above.
        with db.connect(settings, "admin") as conn:
            rows = conn.execute(
                "select e.event_id::text, extract(epoch from h.beat_at)"
                " from raw.user_events e"
                " cross join lateral (select min(beat_at) as beat_at from ops.stream_heartbeat"
                "  where sink = 'spark.user_events' and beat_at >= e.ingested_at) h"
                " where e.ingested_at >= %s and h.beat_at is not null",
                (t_start,),
            ).fetchall()
        for event_id, visible in rows:
            seen[event_id] = min(seen.get(event_id, float("inf")), float(visible))
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        peak = sampler.stop()
    lat = sorted(seen[e] - produced[e] for e in produced if e in seen)
    return {
        "p50": statistics.median(lat),
        "p99": lat[int(0.99 * (len(lat) - 1))],
        "missing": len(produced) - len(lat),
        "n": len(produced),
        "peak_mem": peak,
    }


def report_landing(n: int, fmt: str, land: dict, copy_rate: float) -> None:
    """Events/s and the ratio to COPY: with start-up (process wall), the query run, steady."""
    _line(f"COPY of the same {n:,} rows", f"{copy_rate:,.0f} ev/s", "baseline", None)
    wall = n / land["wall_s"]
    ok = wall / copy_rate >= 0.25
    _line(f"{fmt} {n:,}, incl. start-up (process)", f"{wall:,.0f} ev/s", "info", None)
    _line("  ratio to COPY", f"{wall / copy_rate:.3f}x", ">= 0.25x", ok if n <= 300_000 else None)
    run = n / land["landing_s"]
    _line("  query run (ops.run_log)", f"{run:,.0f} ev/s  {run / copy_rate:.3f}x", "info", None)
    if land["batches_s"] > 0 and land["batches"] > 2:
        # from the first batch's commit to the last: steady state, without query start-up
        steady = n * (land["batches"] - 1) / land["batches"] / land["batches_s"]
        _line("  steady state (batch commits)", f"{steady:,.0f} ev/s  {steady / copy_rate:.3f}x",
              "info", None)  # fmt: skip
    _line("  micro-batches", f"{land['batches']}", "info", None)
    peak = land["peak_mem"]
    _line("  Spark driver peak memory", _mb(peak), "<= 2 GB", peak <= 2 << 30)


def report_fallback(settings, rules, size: int, fmt: str, seed: int, copy_rate) -> int:
    """The fallback's figures; the ratio to the first landing run's COPY (if one ran)."""
    print(f"pandas fallback over a backlog of {size:,} {fmt} events", flush=True)
    fb = bench_fallback(settings, rules, size, seed=10 + seed, fmt=fmt)
    # Timed like the landing run: the run itself, from ops.run_log (the Python
    # interpreter's start and imports are printed separately, as the process wall).
    rate = size / fb["run_s"]
    _line(f"fallback throughput ({size:,} {fmt}, run)", f"{rate:,.0f} ev/s", "info", None)
    if copy_rate:
        _line("  ratio to COPY", f"{rate / copy_rate:.2f}x", ">= 0.3x", rate / copy_rate >= 0.3)
    wall = size / fb["wall_s"]
    _line("  incl. interpreter start (process wall)", f"{wall:,.0f} ev/s", "info", None)
    _line("  peak memory (maxrss)", _mb(fb["maxrss"]), "flat in backlog", None)
    return fb["maxrss"]


def main() -> None:
    from confluent_kafka.admin import AdminClient

    from moviepipe import db, services
    from moviepipe.config import load_settings
    from moviepipe.rules import load_rules

    sizes = [int(x) for x in os.environ.get("BENCH_STREAM_SIZES", "300000,500000").split(",")]
    formats = os.environ.get("BENCH_STREAM_FORMATS", ",".join(FORMATS)).split(",")
    parts = os.environ.get("BENCH_STREAM_PARTS", "landing,latency,fallback").split(",")
    fb_sizes = os.environ.get("BENCH_STREAM_FALLBACK_SIZES", "300000,1000000")
    fallback_sizes = [int(x) for x in fb_sizes.split(",")]
    latency_s = _env_int("BENCH_STREAM_LATENCY_S", 30)
    base = services.up(load_settings())
    rules = load_rules()
    tag = uuid.uuid4().hex[:6]
    dbname = f"bench_stream_{tag}"
    db.bootstrap(base, dbname)
    base = base.model_copy(update={"pgdatabase": dbname})
    work = Path(tempfile.mkdtemp(prefix="bench_stream_"))
    prefixes: list[str] = []

    def topics_for(name: str):
        prefix = f"bench_{tag}_{name}_"
        prefixes.append(prefix)
        return _settings_for(base, prefix)

    try:
        copy_rate = None
        for i, (n, fmt) in enumerate((n, f) for n in sizes for f in formats):
            if "landing" not in parts:
                break
            print(f"landing {n:,} {fmt} events, `stream land --available-now`", flush=True)
            land = bench_landing(topics_for(f"land{i}"), rules, n, work / f"ckpt{i}", fmt)
            rate = n / bench_copy(base)
            copy_rate = copy_rate or rate
            report_landing(n, fmt, land, rate)
        if "latency" in parts:
            print(f"continuous landing, {latency_s}s at 1,000 events/s", flush=True)
            lat = bench_latency(topics_for("lat"), rules, latency_s, work / "ckpt_lat")
            p50, p99 = lat["p50"], lat["p99"]
            _line("latency p50 (produce -> row visible)", f"{p50:.2f} s", "<= 1 s", p50 <= 1)
            _line("latency p99", f"{p99:.2f} s", "<= 2 s", p99 <= 2)
            _line("  events not seen", f"{lat['missing']} of {lat['n']}", "0", lat["missing"] == 0)
            peak = lat["peak_mem"]
            _line("Spark driver peak memory (continuous)", _mb(peak), "<= 2 GB", peak <= 2 << 30)
        if "fallback" in parts:
            runs = [(size, "canonical") for size in fallback_sizes]
            runs.append((fallback_sizes[0], "non-canonical"))
            peaks = [
                report_fallback(topics_for(f"fb{i}"), rules, size, fmt, i, copy_rate)
                for i, (size, fmt) in enumerate(runs)
            ]
            if len(fallback_sizes) > 1:
                growth = peaks[len(fallback_sizes) - 1] / peaks[0] - 1
                _line("fallback memory growth, largest vs smallest", f"{growth:+.0%}",
                      "<= +20%", growth <= 0.2)  # fmt: skip
    finally:
        admin = AdminClient({"bootstrap.servers": base.kafka_bootstrap_servers})
        doomed = [p + t for p in prefixes for t in base.tunables.kafka.topics]
        if doomed:
            for fut in admin.delete_topics(doomed, operation_timeout=30).values():
                with contextlib.suppress(Exception):  # best-effort clean-up
                    fut.result()
        db.drop_database(base, dbname)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
