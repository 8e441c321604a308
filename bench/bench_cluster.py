"""Cluster benchmark: the streaming benchmark's landing on the local Spark standalone cluster.

Run alone with ``.venv/bin/python -m bench cluster``. It starts ``services up spark``
when no cluster runs (and stops it again at the end), lands
``BENCH_CLUSTER_EVENTS`` events (default 500000) in each of ``BENCH_CLUSTER_FORMATS``
(default "canonical,non-canonical": :mod:`bench.event_formats`) with
``SPARK_MASTER=spark://127.0.0.1:<port> moviepipe stream land --available-now``
into a database and topics of its own, and prints events/s, with and without
Spark's start-up, and the ratio to a plain COPY of the same rows in the same run.
The landing and COPY are :mod:`bench.bench_streaming`'s, so the two compare.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from bench.bench_streaming import _env_int, _line, _settings_for, bench_copy, bench_landing
from bench.event_formats import FORMATS


def report(n: int, land: dict, copy_rate: float) -> None:
    rate = n / land["landing_s"]
    _line("COPY of the same rows into raw.user_events", f"{copy_rate:,.0f} ev/s", "baseline", None)
    _line("cluster landing throughput (query run)", f"{rate:,.0f} ev/s", "info", None)
    _line("  ratio to COPY", f"{rate / copy_rate:.2f}x", "info", None)
    _line("  incl. Spark start-up (process wall time)", f"{n / land['wall_s']:,.0f} ev/s",
          "info", None)  # fmt: skip
    _line("  ratio to COPY incl. start-up", f"{n / land['wall_s'] / copy_rate:.2f}x", "info",
          None)  # fmt: skip
    _line("  micro-batches", f"{land['batches']}", "info", None)
    if land["batches_s"] > 0 and land["batches"] > 2:
        # first to last batch commit: without the query's and the executor's start-up
        steady = n * (land["batches"] - 1) / land["batches"] / land["batches_s"]
        _line("  steady state (first to last batch commit)", f"{steady:,.0f} ev/s", "info", None)
        _line("  steady-state ratio to COPY", f"{steady / copy_rate:.2f}x", "info", None)


def main() -> None:
    from moviepipe import db, services
    from moviepipe.config import load_settings
    from moviepipe.rules import load_rules
    from moviepipe.services import kafka, spark_cluster

    n = _env_int("BENCH_CLUSTER_EVENTS", 500_000)
    base = services.up(load_settings())
    started = not spark_cluster.running(base)
    status = spark_cluster.up(base)
    print(f"  {status.line()}", flush=True)
    url = spark_cluster.master_url(base)
    dbname = f"bench_cluster_{uuid.uuid4().hex[:6]}"
    db.bootstrap(base, dbname)
    formats = os.environ.get("BENCH_CLUSTER_FORMATS", ",".join(FORMATS)).split(",")
    own = base.model_copy(update={"pgdatabase": dbname})
    runs = [(fmt, _settings_for(own, f"{dbname}_{i}_")) for i, fmt in enumerate(formats)]
    work = Path(tempfile.mkdtemp(prefix="bench_cluster_"))
    previous = os.environ.get("SPARK_MASTER")
    os.environ["SPARK_MASTER"] = url  # the landing subprocess's environment is ours
    try:
        for i, (fmt, settings) in enumerate(runs):
            print(f"landing {n:,} {fmt} events, `stream land --available-now` on {url}", flush=True)
            land = bench_landing(settings, load_rules(), n, work / f"ckpt{i}", fmt)
            report(n, land, n / bench_copy(settings))
    finally:
        if previous is None:
            os.environ.pop("SPARK_MASTER", None)
        else:
            os.environ["SPARK_MASTER"] = previous
        for _, settings in runs:
            kafka.admin_client(settings).delete_topics(settings.topics, operation_timeout=30)
        db.drop_database(base, dbname)
        shutil.rmtree(work, ignore_errors=True)
        if started:
            spark_cluster.down(base)


if __name__ == "__main__":
    main()
