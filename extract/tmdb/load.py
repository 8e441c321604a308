"""``moviepipe extract tmdb``: TMDB movie details into the bronze layer, restartable.

This module composes the extractor's parts, as the Singer SDK keeps client, streams,
paginator and sinks apart:

* ids: explicit (``--movie-ids``), paged listings and ``--changes`` windows
  (:mod:`~extract.tmdb.paging`, :mod:`~extract.tmdb.changes`); with no mode, the ids in
  ``tmdb.default_movie_ids``;
* details fetched concurrently under the client's rate limit (:mod:`~extract.tmdb.fetch`,
  :mod:`~extract.tmdb.client`);
* each batch landed in one PostgreSQL transaction (:mod:`~extract.tmdb.postgres_sink`), the
  MongoDB backup (:mod:`~extract.tmdb.mongo_sink`) and the bronze files
  (:mod:`~extract.tmdb.bronze_sink`) written just before the commit, so a kill at any point
  only means the next run redoes an idempotent batch. Every run is logged in
  ``ops.run_log``.

Usage::

    summary = run_tmdb_extract(settings, movie_ids=[550, 299534])
    summary.exit_code   # 0 all landed, 1 some ids failed (recorded in ops.extract_errors)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from tqdm import tqdm

from extract.tmdb import changes as change_log
from extract.tmdb.bronze_sink import BronzeWriter
from extract.tmdb.client import TmdbAuthError, TmdbClient
from extract.tmdb.fetch import fetch_batches
from extract.tmdb.mongo_sink import upsert_movies
from extract.tmdb.paging import Listing, discover_listing, list_ids
from extract.tmdb.postgres_sink import insert_errors, insert_movies, record_list_failure
from extract.tmdb.records import SOURCE, Outcome, landed_rows
from moviepipe import db, runlog
from moviepipe.config import Settings

log = logging.getLogger(__name__)

STEP = "extract tmdb"


@dataclass
class ExtractSummary:
    run_id: str
    status: str = "running"  # succeeded | partial | failed
    ids_total: int = 0
    fetched: int = 0
    new: int = 0
    unchanged: int = 0
    missing: int = 0
    failed: int = 0
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    elapsed_s: float = 0.0
    movies_per_s: float = 0.0
    error: str | None = None
    missing_ids: list[int] = field(default_factory=list)
    failed_ids: list[int] = field(default_factory=list)
    failed_lists: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"succeeded": 0, "partial": 1}.get(self.status, 2)

    def line(self) -> str:
        return (
            f"run {self.run_id} {self.status}: {self.ids_total} ids, fetched {self.fetched} "
            f"(new {self.new}, unchanged {self.unchanged}), missing {self.missing}, "
            f"failed {self.failed}; {self.requests} requests, {self.retries} retries, "
            f"{self.throttled} 429s; {self.movies_per_s:.1f} movies/s in {self.elapsed_s:.1f}s"
        )

    def for_log(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("missing_ids", "failed_ids"):
            out[key] = out[key][:1000]  # the full lists are in ops.extract_errors
        return out

    def count(self, batch: list[Outcome], new: int, unchanged: int) -> None:
        self.new += new
        self.unchanged += unchanged
        self.fetched += new + unchanged
        self.missing_ids += [o.movie_id for o in batch if o.kind == "missing"]
        self.failed_ids += [o.movie_id for o in batch if o.kind == "failed"]

    def settle(self) -> None:
        self.missing = len(self.missing_ids)
        self.failed = len(self.failed_ids) + len(self.failed_lists)
        self.status = "succeeded" if self.failed == 0 else "partial"


def land_batch(
    conn: psycopg.Connection,
    outcomes: list[Outcome],
    run_id: str,
    *,
    mongo_coll: Any = None,
    bronze: BronzeWriter | None = None,
) -> tuple[int, int]:
    """Land one batch in one PostgreSQL transaction; returns ``(new, unchanged)``."""
    now = datetime.now(UTC)
    rows = landed_rows(outcomes)
    with conn.transaction(), conn.cursor() as cur:
        inserted = insert_movies(cur, rows, run_id, now)
        insert_errors(cur, outcomes, run_id)
        # The backup copy and the files are written before the commit: if they fail, the
        # batch is not committed and the next run redoes it. Only payloads new to PostgreSQL
        # go to MongoDB: an unchanged payload is already there (it was written before the
        # commit that made it unchanged).
        fresh = [r for r in rows if r[0] in inserted]
        if mongo_coll is not None and fresh:
            upsert_movies(mongo_coll, fresh, now, run_id)
        if bronze is not None:
            bronze.write(rows, now)
    return len(inserted), len(rows) - len(inserted)


def _listed_ids(
    client: TmdbClient,
    conn: psycopg.Connection,
    summary: ExtractSummary,
    listings: list[Listing],
) -> list[int]:
    """Ids of every listing page; failed pages are logged and recorded."""
    found, failures = list_ids(client, listings)
    for failure in failures:
        log.error("listing %s failed: %s", failure.entity, failure.error)
        record_list_failure(conn, summary.run_id, failure.entity, failure.error)
        summary.failed_lists.append(failure.entity)
    return found


def _failure_text(exc: BaseException, secrets: list[str]) -> str:
    if isinstance(exc, TmdbAuthError):
        return runlog.mask_secrets(f"TMDB rejected the credentials, run aborted: {exc}", secrets)
    return runlog.error_text(exc, secrets)


def run_tmdb_extract(
    settings: Settings,
    *,
    movie_ids: Iterable[int] | None = None,
    discover_pages: int | None = None,
    popular: bool = False,
    changes: bool = False,
    since: date | None = None,
    bronze_dir: str | Path | None = None,
    mongo_db: str | None = None,
    batch_size: int | None = None,
    client: TmdbClient | None = None,
    progress: bool = True,
    today: date | None = None,
) -> ExtractSummary:
    """Run one extraction; returns its summary (``status`` failed only on bad credentials,
    which raise :class:`TmdbAuthError` after the run is logged)."""
    from moviepipe.services import mongo

    started = datetime.now(UTC)
    t0 = time.monotonic()
    movie_ids = list(movie_ids) if movie_ids is not None else None
    run_id = runlog.new_run_id(SOURCE)
    summary = ExtractSummary(run_id)
    batch_size = batch_size or settings.tunables.tmdb.batch_size
    concurrency = settings.tunables.tmdb.concurrency
    own_client = client is None
    client = client or TmdbClient.from_settings(settings)
    today = today or datetime.now(UTC).date()
    args = {
        "movie_ids": len(movie_ids) if movie_ids is not None else None,
        "discover_pages": discover_pages,
        "popular": popular,
        "changes": changes,
        "since": since.isoformat() if since else None,
        "bronze_dir": str(bronze_dir) if bronze_dir else None,
        "base_url": client.base_url,
    }
    bronze = BronzeWriter(Path(bronze_dir), started, run_id) if bronze_dir else None
    with mongo.client(settings) as mc, db.connect(settings, "loader", autocommit=True) as conn:
        coll = mc[mongo_db or settings.tunables.mongo.database]["movies"]
        secrets = runlog.secret_values(settings)
        with runlog.run(conn, run_id, STEP, args, secrets=secrets) as run:
            if changes:  # the bookmark moves only with a logged, succeeded finish
                run.on_success(lambda c: change_log.advance_bookmark(c, today, run_id))
            try:
                listings = (
                    [discover_listing(discover_pages, popular=popular)] if discover_pages else []
                )
                if changes:
                    windows = change_log.change_windows_since(conn, since, today)
                    listings += change_log.change_listings(windows)
                ids = list(dict.fromkeys(int(i) for i in movie_ids or []))
                if listings:
                    ids = list(dict.fromkeys(ids + _listed_ids(client, conn, summary, listings)))
                elif movie_ids is None and not changes:
                    ids = list(settings.tunables.tmdb.default_movie_ids)
                summary.ids_total = len(ids)
                abort = threading.Event()
                with tqdm(total=len(ids), unit="movie", disable=not progress, desc="tmdb") as bar:
                    for batch in fetch_batches(client, ids, concurrency, batch_size, abort):
                        new, unchanged = land_batch(
                            conn, batch, run_id, mongo_coll=coll, bronze=bronze
                        )
                        summary.count(batch, new, unchanged)
                        bar.update(len(batch))
                summary.settle()
            except BaseException as exc:
                summary.status = "failed"
                summary.error = run.error = _failure_text(exc, secrets)
                raise
            finally:
                if bronze is not None:
                    bronze.close()
                if own_client:
                    client.close()
                _fill_stats(summary, client, t0)
                run.summary, run.status = summary.for_log(), summary.status
    return summary


def _fill_stats(summary: ExtractSummary, client: TmdbClient, t0: float) -> None:
    stats = client.stats.snapshot()
    summary.requests = stats["requests"]
    summary.retries = stats["retries"]
    summary.throttled = stats["throttled"]
    summary.elapsed_s = round(time.monotonic() - t0, 3)
    summary.movies_per_s = (
        round(summary.fetched / summary.elapsed_s, 2) if summary.elapsed_s else 0.0
    )
