"""Spark Structured Streaming: Kafka -> raw.user_events, exactly once (``moviepipe stream land``).

Source, one transform, one sink. Spark's Kafka source reads the four topics
(``maxOffsetsPerTrigger`` and the trigger from ``streaming.land`` in the YAML).
In each micro-batch, every task runs the contract's one validator on its
partition through ``mapInArrow``
(:func:`streaming.transforms.validate_batches`, the pandas fallback's own) and
lands the result itself, claimed by the Kafka offset ranges it holds, in a
transaction of its own (:class:`streaming.land_task.LandTask`); nothing but a
row of counts per task reaches the driver. The driver then claims the batch id
in ``ops.stream_batches`` with the tasks' counts
(:func:`streaming.land_task.finish_batch`). Spark replays an unfinished batch
with the same id and offsets after a crash: a task that had committed finds its
claim, the others land their rows; the event key is unique besides.

Usage::

    moviepipe stream land --available-now      # drain what is there, then exit
    moviepipe stream land                      # continuous, processing-time trigger
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moviepipe import db, runlog
from moviepipe.config import Settings
from moviepipe.rules import Rules
from moviepipe.services import kafka
from streaming import land_task, sink
from streaming.kafka_io import end_offsets

log = logging.getLogger(__name__)
SINK = "spark.user_events"


def checkpoint_path(settings: Settings, override: Path | None = None) -> Path:
    """Per database and topic prefix: a checkpoint belongs to one sink and one set of topics."""
    if override:
        return Path(override)
    base = settings.home / settings.tunables.streaming.land.checkpoint_dir
    return base / settings.pgdatabase / (settings.moviepipe_topic_prefix or "_")


@dataclass
class BatchWriter:
    """The ``foreachBatch`` callback; keeps one loader connection for the stream's life."""

    settings: Settings
    rules: Rules
    run_id: str
    checkpoint: Path
    totals: dict[str, int] = field(
        default_factory=lambda: {
            "batches": 0,
            "rows_in": 0,
            "landed": 0,
            "rejected": 0,
            "replayed": 0,
        }
    )
    _conn: Any = None
    _admin: Any = None
    _sink_key: str | None = None

    def sink_key(self) -> str:
        # Batch ids restart at 0 with a new checkpoint: key the claim by the query's stable id.
        if self._sink_key is None:
            query_id = json.loads((self.checkpoint / "metadata").read_text())["id"]
            self._sink_key = f"{SINK}@{query_id}"
        return self._sink_key

    def conn(self):
        if self._conn is None or self._conn.closed:
            self._conn = db.connect(self.settings, "loader")
        return self._conn

    def lag(self) -> int | None:
        """Messages on the topics not yet landed, after this batch (0 when caught up)."""
        try:
            if self._admin is None:
                self._admin = kafka.admin_client(self.settings)
            ends = end_offsets(self._admin, self.settings.topics)
            done = self.committed_offsets()
            return sum(max(0, high - done.get(tp, 0)) for tp, high in ends.items())
        except Exception:
            log.warning("could not compute lag", exc_info=True)
            return None

    def committed_offsets(self) -> dict[tuple[str, int], int]:
        """Next offsets per partition from the newest offset log entry of the checkpoint."""
        offsets_dir = self.checkpoint / "offsets"
        entries = sorted(
            (p for p in offsets_dir.iterdir() if p.name.isdigit()), key=lambda p: int(p.name)
        )
        if not entries:
            return {}
        lines = entries[-1].read_text().splitlines()
        out = {}
        for t, parts in json.loads(lines[-1]).items():
            for p, o in parts.items():
                out[(t, int(p))] = int(o)
        return out

    def __call__(self, batch_df, batch_id: int) -> None:
        t0 = time.monotonic()
        key = self.sink_key()
        task = land_task.LandTask(
            # the loader's libpq settings, made here: executors read no environment
            self.settings.pg_conninfo("loader"),
            self.rules,
            self.settings.moviepipe_topic_prefix,
            key,
            batch_id,
            self.run_id,
            self.settings.tunables.partitions.months_ahead,
        )
        # One task a core, not one per Kafka partition: a task costs more than the few
        # hundred records a partition holds in continuous mode.
        cores = batch_df.sparkSession.sparkContext.defaultParallelism
        tasks = batch_df.coalesce(cores).mapInArrow(task, land_task.RESULT_SCHEMA).collect()
        t1 = time.monotonic()
        conn = self.conn()
        result = land_task.finish_batch(conn, key, batch_id, rows_in=sum(r.rows_in for r in tasks))
        t2 = time.monotonic()
        sink.heartbeat(conn, SINK, batch_id, result, self.lag())
        t = self.totals
        t["batches"] += 1
        t["rows_in"] += result.rows_in
        t["landed"] += result.rows_landed
        t["rejected"] += result.rows_rejected
        t["replayed"] += int(result.replayed)
        log.info(
            "batch %s: %s (tasks %.2fs, finish %.2fs, heartbeat %.2fs)",
            batch_id, result.as_dict(), t1 - t0, t2 - t1, time.monotonic() - t2,
        )  # fmt: skip

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def run_land(
    settings: Settings,
    rules: Rules,
    *,
    available_now: bool,
    checkpoint: Path | None = None,
    max_offsets: int | None = None,
) -> dict[str, Any]:
    """Run the landing query until drained (``available_now``) or stopped; returns totals."""
    from moviepipe.spark import build_spark_session

    cfg = settings.tunables.streaming.land
    ckpt = checkpoint_path(settings, checkpoint)
    ckpt.mkdir(parents=True, exist_ok=True)
    run_id = runlog.new_run_id("land")
    spark = build_spark_session(
        settings,
        "moviepipe-land",
        extra={"spark.driver.memory": cfg.driver_memory},
    )
    writer = BatchWriter(settings, rules, run_id, ckpt)
    args = {"available_now": available_now, "checkpoint": str(ckpt)}
    try:
        # A connection per write: none idles through a run that lasts hours.
        with runlog.run(lambda: db.connect(settings, "loader"), run_id, "stream land", args) as run:
            run.summary = writer.totals  # the same dict, as far as it got
            source = (
                spark.readStream.format("kafka")
                .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
                .option("subscribe", ",".join(settings.topics))
                .option("startingOffsets", "earliest")
                .option("failOnDataLoss", "false")
                .option("maxOffsetsPerTrigger", max_offsets or cfg.max_offsets_per_trigger)
                # A task reads its offset range and, at the end of a partition's log, waits
                # fetch.max.wait.ms (500 ms by default) for bytes that never come: 12 partitions
                # on 2 cores cost ~3 s a micro-batch. A short wait makes that a few milliseconds.
                .option("kafka.fetch.max.wait.ms", str(cfg.fetch_max_wait_ms))
                .load()
            )
            writer_stream = source.writeStream.foreachBatch(writer).option(
                "checkpointLocation", str(ckpt)
            )
            if available_now:
                writer_stream = writer_stream.trigger(availableNow=True)
            else:
                writer_stream = writer_stream.trigger(processingTime=cfg.trigger_interval)
            query = writer_stream.queryName("moviepipe_land").start()
            try:
                query.awaitTermination()
            except KeyboardInterrupt:
                query.stop()
    finally:
        writer.close()
        spark.stop()
    return {"run_id": run_id, **writer.totals}
