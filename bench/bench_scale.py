"""Scale benchmark: does a run's cost follow the new data or the history?

``python -m bench scale [--sizes 1M,10M] [--new 10000] [--no-per-node]`` (opt-in: not
part of a plain ``python -m bench``; the default sizes take tens of minutes).
For each history size, in a fresh database of its own (dropped at the end):

1. the TMDB 5000 movies are copied into raw.tmdb_movies (bench_warehouse's
   ``land_movies``, direct COPY); the history (:mod:`bench.scale_events`: the
   simulator's week repeated back in time, landed as it happened) is COPYed into
   raw.user_events a week-chunk at a time with the sink's own CSV encoder, then
   ``vacuum analyze`` (what autovacuum would have done long before the next run);
2. full build: ``dbt build`` in process (dbtRunner, as bench_warehouse and an
   orchestrator run it) on the fresh warehouse, then ``vacuum analyze``;
3. ``--new`` simulator events are landed by ``streaming.sink.write_batch`` (the
   Spark sink's path: batch claim in ops.stream_batches, COPY)
   and the incremental build runs: plain ``dbt build``, what ``moviepipe
   transform`` does. Timed, with the rows read from every table meanwhile;
4. per node (unless ``--no-per-node``): another batch of new events, and the same
   build with ``--threads 1`` and unit tests left out (they read no table), the
   statistics read after each node; this run is not timed against the target.

Rows read are PostgreSQL's cumulative statistics, ``seq_tup_read + idx_tup_fetch``
of pg_stat_user_tables: rows a sequential scan returned plus heap rows an index
scan fetched (index-only scans fetch none), summed over a partitioned table's
partitions. A backend publishes its counters when it goes idle, at most once a
second, so the bench waits ``FLUSH_S`` before each reading.

Printed per size: history rows, COPY rate, full build time, incremental build time
and the rows read per relation (and per node); then the incremental and the full
builds' growth and the incremental build's rows read against the history's, target
incremental(largest)/incremental(smallest) <= 2x. The machine is shared: figures are
indicative unless the bench runs alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from unittest import mock

import pandas as pd
from psycopg import sql

from moviepipe import db, services
from moviepipe.config import Settings, load_settings
from moviepipe.dbt_runner import dbt_env, default_target_path, run_dbt_in_process
from moviepipe.events import REJECTED_COLUMNS

TARGET_RATIO = 2.0
FLUSH_S = 1.2  # a backend flushes its statistics when idle, at most once a second
SEED = 14
RUN_ID = "bench-scale"
# Keyed by the table's oid: a model rebuilt as a table is a new table, counted from zero.
STATS_SQL = """
select coalesce(pg_partition_root(relid), relid)::oid as root,
       coalesce(pg_partition_root(relid), relid)::regclass::text as rel,
       sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::bigint as rows_read,
       sum(coalesce(seq_scan, 0))::bigint as seq_scans
from pg_stat_user_tables
where schemaname not like 'pg\\_%'
group by 1, 2
"""


@dataclass
class SizeResult:
    size: int
    copy_s: float
    full_s: float
    incremental_s: float
    reads: dict[str, tuple[int, int]]  # relation -> (rows read, sequential scans)
    slowest: list[tuple[str, float]]  # incremental build: nodes by execution time
    # per model (second batch): (model, its own reads per table, its data tests, their rows)
    models: list[tuple[str, dict[str, int], int, int]] = field(default_factory=list)


def parse_size(text: str) -> int:
    """``10M`` -> 10_000_000, ``50k`` -> 50_000, ``2000`` -> 2000."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def stats(conn) -> dict[int, tuple[str, int, int]]:
    """``{table oid: (name, rows read, sequential scans)}``, partitions summed into their root."""
    conn.execute("select pg_stat_clear_snapshot()")
    return {oid: (rel, r, s) for oid, rel, r, s in conn.execute(STATS_SQL).fetchall()}


def delta(after: dict, before: dict) -> dict[str, tuple[int, int]]:
    """``{name: (rows read, sequential scans)}`` between two :func:`stats` readings."""
    out: dict[str, tuple[int, int]] = {}
    for oid, (rel, r, s) in after.items():
        _, r0, s0 = before.get(oid, (rel, 0, 0))
        if r - r0 or s - s0:
            prev = out.get(rel, (0, 0))
            out[rel] = (prev[0] + r - r0, prev[1] + s - s0)
    return out


def copy_history(settings: Settings, size: int, week, end: datetime) -> float:
    """COPY the history into raw.user_events, one transaction a chunk; returns seconds."""
    from bench.scale_events import history_chunks
    from streaming.sink import _constant, copy_rows  # the sink's own CSV-over-COPY encoder

    target = sql.Identifier("raw", "user_events")
    start = time.monotonic()
    with db.connect(settings, "loader") as conn, conn.cursor() as cur:
        for chunk in history_chunks(size, week, seed=SEED, end=end):
            n = chunk.num_rows
            rows = chunk.append_column("run_id", _constant(f"{RUN_ID}-history", n))
            copy_rows(cur, target, rows.append_column("source_flag", _constant("spark", n)))
            conn.commit()
    return time.monotonic() - start


def land_new(settings: Settings, events, batch_id: int) -> None:
    """Land ``events`` as the Spark sink does (``write_batch``, claimed batch)."""
    from streaming.sink import write_batch

    rejected = pd.DataFrame(columns=list(REJECTED_COLUMNS))
    with db.connect(settings, "loader") as conn:
        result = write_batch(
            conn, events, rejected, table="raw.user_events", run_id=RUN_ID, source_flag="spark",
            sink="bench.scale", batch_id=batch_id,
        )  # fmt: skip
    assert result.rows_landed == events.num_rows, result


SIZED = ("raw.user_events", "silver.user_events", "gold_build.fact_user_event")


def table_sizes(settings: Settings) -> str:
    """Total on-disk size (heap, indexes, TOAST; partitions summed) of the event tables."""
    query = (
        "select coalesce((select sum(pg_total_relation_size(relid)) from pg_partition_tree(r)),"
        " pg_total_relation_size(r)) from (select %s::regclass as r) as t"
    )
    with db.connect(settings, "admin", autocommit=True) as conn:
        sizes = [conn.execute(query, (rel,)).fetchone()[0] for rel in SIZED]
    return ", ".join(f"{rel} {n / 2**20:,.0f} MiB" for rel, n in zip(SIZED, sizes, strict=True))


def vacuum_analyze(settings: Settings) -> float:
    start = time.monotonic()
    with db.connect(settings, "admin", autocommit=True) as conn:
        conn.execute("vacuum (analyze)")
    return time.monotonic() - start


def build(settings: Settings, *args: str, callbacks=()) -> float:
    """Wall time of one in-process ``dbt build``; raises when it fails."""
    start = time.monotonic()
    if callbacks:
        from dbt.cli.main import dbtRunner

        with mock.patch.dict(os.environ, dbt_env(settings, base={})):
            ok = dbtRunner(callbacks=list(callbacks)).invoke(["build", "--quiet", *args]).success
    else:
        ok = run_dbt_in_process(settings, ["build", "--quiet", *args])
    if not ok:
        raise RuntimeError("dbt build failed: see .local/log/dbt/dbt.log")
    return time.monotonic() - start


def slowest_nodes(settings: Settings, top: int = 8) -> list[tuple[str, float]]:
    path = default_target_path(settings) / "run_results.json"
    results = json.loads(path.read_text())["results"]
    timed = [(r["unique_id"], float(r["execution_time"])) for r in results]
    return sorted(timed, key=lambda t: -t[1])[:top]


def tests_attached(settings: Settings) -> dict[str, str]:
    """``{data test: the model it tests}`` from dbt's manifest."""
    nodes = json.loads((default_target_path(settings) / "manifest.json").read_text())["nodes"]
    return {k: v["attached_node"] for k, v in nodes.items() if v.get("attached_node")}


def by_model(
    nodes: list[tuple[str, dict[str, int]]], attached: dict[str, str]
) -> list[tuple[str, dict[str, int], int, int]]:
    """Per-node reads grouped per model: ``(model, own reads, tests, rows the tests read)``,
    most rows first; a test with no attached model counts under its own name."""
    own: dict[str, dict[str, int]] = {}
    tests: dict[str, list[int]] = {}
    for node, reads in nodes:
        model = attached.get(node)
        if model is None:
            own.setdefault(node, {}).update(reads)
        else:
            own.setdefault(model, {})
            tests.setdefault(model, []).append(sum(reads.values()))
    rows = [(m, r, len(tests.get(m, [])), sum(tests.get(m, []))) for m, r in own.items()]
    return sorted(rows, key=lambda t: -(sum(t[1].values()) + t[3]))


def per_node_reads(settings: Settings, conn) -> list[tuple[str, dict[str, int]]]:
    """Build with one thread; the rows each node read, from the statistics after each."""
    out: list[tuple[str, dict[str, int]]] = []
    last = [stats(conn)]

    def on_event(msg) -> None:
        if msg.info.name != "NodeFinished":
            return
        time.sleep(FLUSH_S)
        now = stats(conn)
        reads = {rel: r for rel, (r, _) in delta(now, last[0]).items() if r}
        out.append((msg.data.node_info.unique_id, reads))
        last[0] = now

    build(settings, "--threads", "1", "--exclude", "test_type:unit", callbacks=[on_event])
    return out


def run_size(
    stack: Settings, size: int, week, end: datetime, new_n: int, per_node: bool, movie_ids
) -> SizeResult:
    from bench.bench_warehouse import land_movies
    from bench.scale_events import events_table
    from moviepipe.rules import load_rules
    from streaming.sources import simulate_events

    rules = load_rules()
    name = f"bench_scale_{uuid.uuid4().hex[:8]}"
    settings = stack.model_copy(update={"pgdatabase": name})
    db.bootstrap(settings, name)
    try:
        with mock.patch.dict(os.environ, {"MOVIEPIPE_BENCH_DIRECT_COPY": "1"}):
            land_movies(settings, name)
        copy_s = copy_history(settings, size, week, end)
        print(f"  history: {size:,} events COPYed in {copy_s:.1f} s ({size / copy_s:,.0f} rows/s);"
              f" vacuum analyze {vacuum_analyze(settings):.1f} s", flush=True)  # fmt: skip
        if not run_dbt_in_process(settings, ["parse", "--quiet"]):
            raise RuntimeError("dbt parse failed")
        full_s = build(settings)
        print(f"  full build: {full_s:.1f} s; vacuum analyze {vacuum_analyze(settings):.1f} s;"
              f" sizes: {table_sizes(settings)}", flush=True)  # fmt: skip
        batches = simulate_events(2 * new_n, SEED + 1, movie_ids, start=end)
        new = events_table(list(batches), rules, first_offset=size)
        land_new(settings, new.slice(0, new_n), batch_id=1)
        with db.connect(settings, "admin", autocommit=True) as conn:
            before = stats(conn)
            incremental_s = build(settings)
            time.sleep(FLUSH_S)
            reads = delta(stats(conn), before)
            result = SizeResult(size, copy_s, full_s, incremental_s, reads, slowest_nodes(settings))
            print(f"  incremental build after {new_n:,} new events: {incremental_s:.1f} s",
                  flush=True)  # fmt: skip
            if per_node:
                land_new(settings, new.slice(new_n), batch_id=2)
                attached = tests_attached(settings)
                result.models = by_model(per_node_reads(settings, conn), attached)
            facts = conn.execute("select count(*) from gold_build.fact_user_event").fetchone()[0]
        expected = size + new.num_rows if per_node else size + new_n
        assert facts == expected, f"gold_build.fact_user_event has {facts} rows, not {expected}"
        return result
    finally:
        db.drop_database(stack, name)
        shutil.rmtree(default_target_path(settings).parent, ignore_errors=True)


def report(r: SizeResult, new_n: int) -> None:
    print(f"\n  {r.size:,} events of history:")
    print(f"    COPY {r.size / r.copy_s:,.0f} rows/s; full build {r.full_s:.1f} s;"
          f" incremental build ({new_n:,} new events) {r.incremental_s:.1f} s")  # fmt: skip
    print("    rows read during the incremental build, per table (seq_tup_read + idx_tup_fetch):")
    for rel, (rows, scans) in sorted(r.reads.items(), key=lambda kv: -kv[1][0]):
        print(f"      {rel:48s} {rows:>13,}   seq scans {scans}")
    print("    slowest nodes of the incremental build (dbt execution time):")
    for node, secs in r.slowest:
        print(f"      {node:72s} {secs:7.1f} s")
    if r.models:
        print("    rows read per model (second batch, one thread): its own queries, its data tests")
        for model, reads, n_tests, test_rows in r.models:
            own = sum(reads.values())
            if own + test_rows < 1000:
                continue
            tops = sorted(reads.items(), key=lambda kv: -kv[1])[:3]
            tables = ", ".join(f"{rel} {n:,}" for rel, n in tops)
            name = model.split(".")[-1]
            print(f"      {name:34s} {own:>12,}  tests {n_tests:>2} {test_rows:>12,}  ({tables})")


def summary(results: list[SizeResult]) -> None:
    print("\n  size          COPY rows/s   full build   incremental   rows read:  all"
          "     by models     by tests")  # fmt: skip
    for r in results:
        rows = sum(n for n, _ in r.reads.values())
        by_models = sum(sum(t[1].values()) for t in r.models)  # the second, one-thread batch
        by_tests = sum(t[3] for t in r.models)
        split = f"{by_models:>13,} {by_tests:>12,}" if r.models else ""
        print(f"  {r.size:>12,}  {r.size / r.copy_s:>11,.0f}  {r.full_s:>9.1f} s"
              f"  {r.incremental_s:>10.1f} s  {rows:>15,} {split}")  # fmt: skip
    print("  (all: the timed build; by models / by tests: the second batch's one-thread build)")
    if len(results) < 2:
        return
    small, large = results[0], results[-1]
    growth = large.size / small.size
    ratio = large.incremental_s / small.incremental_s
    verdict = "OK" if ratio <= TARGET_RATIO else "MISSED"
    full = large.full_s / small.full_s
    rows = sum(n for n, _ in large.reads.values()) / max(1, sum(n for n, _ in small.reads.values()))
    print(f"\n  history x{growth:.0f}: incremental build x{ratio:.2f}"
          f" (target <= {TARGET_RATIO:.0f}x) {verdict}; full build x{full:.2f};"
          f" rows read by the incremental build x{rows:.2f}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench scale", description="Scale benchmark")
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SCALE_SIZES", "1M,10M"),
                        help="history sizes, comma separated (k/M suffixes)")  # fmt: skip
    parser.add_argument("--new", type=parse_size, default=10_000, help="new events per batch")
    parser.add_argument("--no-per-node", dest="per_node", action="store_false")
    args = parser.parse_args(argv or [])
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))

    from bench.kaggle import kaggle_docs
    from bench.scale_events import simulated_week
    from moviepipe.rules import load_rules

    stack = services.up(load_settings())
    movie_ids = sorted(kaggle_docs(stack.moviepipe_data_dir / "tmdb_5000"))
    week = simulated_week(SEED, load_rules(), movie_ids)
    # The history ends a day ago; the new events follow it (about 1k an hour), still in the past.
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    print(f"  a simulated week: {week.num_rows:,} events; history ends {end:%Y-%m-%d %H:%M}Z")
    results = []
    for size in sizes:
        print(f"\n  --- {size:,} events of history ---", flush=True)
        results.append(run_size(stack, size, week, end, args.new, args.per_node, movie_ids))
    for r in results:
        report(r, args.new)
    summary(results)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
