"""``moviepipe extract tmdb``: TMDB movie details into the bronze layer, restartable.

Modes (they can be combined; with none, the ids in ``tmdb.default_movie_ids``):

* ``movie_ids``: explicit ids (``--movie-ids 550,299534`` or ``--movie-ids @FILE``);
* ``discover_pages``: ids from ``/discover/movie`` (or ``/movie/popular``) pages 1..N,
  never past ``total_pages`` or TMDB's cap of 500;
* ``changes``: ids from ``/movie/changes`` since the ``tmdb.changes`` bookmark (or ``since``)
  up to today, in windows of at most 14 days; the bookmark advances only after a run with
  no failed id.

Details are fetched concurrently under the client's rate limit
(``/movie/{id}?append_to_response=credits,keywords,release_dates``) and landed per batch,
as the loader role, in one PostgreSQL transaction: ``raw.tmdb_movies`` (``on conflict do
nothing`` on ``(movie_id, payload_hash)``: the same payload adds nothing, a changed one adds
a row) and ``ops.extract_errors`` (missing and failed ids). The MongoDB backup
``raw.movies`` gets every payload new to PostgreSQL, upserted by movie id just before the
commit, so a kill at any point only means the next run redoes an idempotent batch. With
``bronze_dir`` each batch is also appended to
``DIR/movies/ingestion_date=YYYY-MM-DD/movies_raw_HHMMSS.json`` (JSON Lines) and a Parquet
file beside it. Every run is logged in ``ops.run_log``.

Usage::

    summary = run_tmdb_extract(settings, movie_ids=[550, 299534])
    summary.exit_code   # 0 all landed, 1 some ids failed (recorded in ops.extract_errors)
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from tqdm import tqdm

from extract.pg import insert_returning
from extract.tmdb.client import TmdbAuthError, TmdbClient, TmdbError, TmdbNotFound
from moviepipe import db
from moviepipe.config import Settings
from moviepipe.runlog import finish_run, get_bookmark, new_run_id, set_bookmark, start_run

log = logging.getLogger(__name__)

SOURCE = "tmdb"
SOURCE_FLAG = "tmdb_api"
STEP = "extract tmdb"
CHANGES_BOOKMARK = "tmdb.changes"
MAX_PAGE = 500
MAX_WINDOW_DAYS = 14
DUPLICATE_KEY = 11000


# ---- pure helpers ----------------------------------------------------------------------------


def canonical_json(payload: Any) -> str:
    """Key-sorted, compact JSON: equal documents give equal text whatever the key order."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def parse_movie_ids(spec: str) -> list[int]:
    """``"550,299534"`` or ``"@FILE"`` (one id per line, ``#`` comments) -> ids, first-seen order.

    Raises ``ValueError`` naming the offending token.
    """
    if spec.startswith("@"):
        lines = Path(spec[1:]).read_text(encoding="utf-8").splitlines()
        tokens = [(f"line {n}", line.split("#", 1)[0].strip()) for n, line in enumerate(lines, 1)]
    else:
        tokens = [(f"item {n}", t.strip()) for n, t in enumerate(spec.split(","), 1)]
    ids: list[int] = []
    for where, token in tokens:
        if not token:
            continue
        if not token.isdigit() or int(token) <= 0:
            raise ValueError(f"not a movie id at {where}: {token!r}")
        ids.append(int(token))
    return list(dict.fromkeys(ids))


def change_windows(
    start: date, end: date, max_days: int = MAX_WINDOW_DAYS
) -> list[tuple[date, date]]:
    """Consecutive inclusive ``(start, end)`` windows covering every day once, each at most
    ``max_days`` calendar days long (TMDB's ``/movie/changes`` limit)."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    windows = []
    cursor = start
    while cursor <= end:
        stop = min(cursor + timedelta(days=max_days - 1), end)
        windows.append((cursor, stop))
        cursor = stop + timedelta(days=1)
    return windows


def page_range(requested: int, total_pages: int) -> range:
    """Pages 1..N, never past what TMDB reports nor its cap of 500."""
    return range(1, max(min(requested, total_pages, MAX_PAGE), 0) + 1)


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


# ---- landing ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    movie_id: int
    payload: dict[str, Any] | None = None
    kind: str | None = None  # None (fetched), 'missing' or 'failed'
    status_code: int | None = None
    message: str | None = None


class BronzeWriter:
    """``DIR/movies/ingestion_date=D/movies_raw_HHMMSS.json`` (JSON Lines) + ``.parquet``.

    The Parquet file is written as ``.parquet.tmp`` and renamed on close, so a killed run
    never leaves a half-written Parquet file under its final name.
    """

    def __init__(self, base: Path, started: datetime, run_id: str):
        import pyarrow as pa

        folder = Path(base) / "movies" / f"ingestion_date={started:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"movies_raw_{started:%H%M%S}"
        if (folder / f"{stem}.json").exists() or (folder / f"{stem}.parquet").exists():
            stem = f"{stem}_{run_id[-8:]}"
        self.json_path = folder / f"{stem}.json"
        self.parquet_path = folder / f"{stem}.parquet"
        self.run_id = run_id
        self.schema = pa.schema(
            [
                ("movie_id", pa.int64()),
                ("payload", pa.string()),
                ("payload_hash", pa.string()),
                ("ingested_at", pa.timestamp("us", tz="UTC")),
                ("run_id", pa.string()),
                ("source_flag", pa.string()),
            ]
        )
        self._writer: Any = None

    def write(self, rows: list[tuple[int, dict[str, Any], str]], ingested_at: datetime) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not rows:
            return
        texts = [json.dumps(payload, ensure_ascii=False) for _, payload, _ in rows]
        with open(self.json_path, "a", encoding="utf-8") as fh:
            fh.writelines(t + "\n" for t in texts)
        table = pa.table(
            {
                "movie_id": [r[0] for r in rows],
                "payload": texts,
                "payload_hash": [r[2] for r in rows],
                "ingested_at": [ingested_at] * len(rows),
                "run_id": [self.run_id] * len(rows),
                "source_flag": [SOURCE_FLAG] * len(rows),
            },
            schema=self.schema,
        )
        if self._writer is None:
            self._writer = pq.ParquetWriter(str(self.parquet_path) + ".tmp", self.schema)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            Path(str(self.parquet_path) + ".tmp").rename(self.parquet_path)
            self._writer = None


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
    rows = [(o.movie_id, o.payload, payload_hash(o.payload)) for o in outcomes if o.payload]
    errors = [o for o in outcomes if o.kind in ("missing", "failed")]
    inserted: set[int] = set()
    with conn.transaction(), conn.cursor() as cur:
        if rows:
            inserted = set(
                insert_returning(
                    cur,
                    "insert into raw.tmdb_movies (movie_id, payload, payload_hash, ingested_at,"
                    " run_id, source_flag) values (%s, %s, %s, %s, %s, %s)"
                    " on conflict (movie_id, payload_hash) do nothing returning movie_id",
                    [(mid, Jsonb(p), h, now, run_id, SOURCE_FLAG) for mid, p, h in rows],
                )
            )
        if errors:
            cur.executemany(
                "insert into ops.extract_errors (source, entity_id, run_id, kind, status_code,"
                " message) values (%s, %s, %s, %s, %s, %s)"
                " on conflict (source, entity_id, run_id) do update set kind = excluded.kind,"
                " status_code = excluded.status_code, message = excluded.message,"
                " recorded_at = now()",
                [
                    (SOURCE, str(o.movie_id), run_id, o.kind, o.status_code, o.message)
                    for o in errors
                ],
            )
        # The backup copy and the files are written before the commit: if they fail, the
        # batch is not committed and the next run redoes it. Only payloads new to PostgreSQL
        # go to MongoDB: an unchanged payload is already there (it was written before the
        # commit that made it unchanged).
        fresh = [r for r in rows if r[0] in inserted]
        if mongo_coll is not None and fresh:
            upsert_mongo(mongo_coll, fresh, now, run_id)
        if bronze is not None:
            bronze.write(rows, now)
    return len(inserted), len(rows) - len(inserted)


def upsert_mongo(
    coll: Any, rows: list[tuple[int, dict[str, Any], str]], now: datetime, run_id: str
) -> None:
    """Upsert by movie id: one ``insert_many`` for the batch, then ``replace_one`` for the ids
    already present (a changed payload, or a batch a killed run wrote but never committed).

    FerretDB answers a batch insert in one transaction but takes tens of milliseconds per
    upsert and scans the collection for ``$in`` deletes, so the common case (new movies)
    must be a plain insert.
    """
    from pymongo.errors import BulkWriteError

    docs = {
        mid: {**payload, "_id": mid, "payload_hash": h, "ingested_at": now, "run_id": run_id}
        for mid, payload, h in rows
    }
    try:
        coll.insert_many(list(docs.values()), ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        for e in errors:
            mid = e["op"]["_id"] if "op" in e else list(docs)[e["index"]]
            coll.replace_one({"_id": mid}, docs[mid], upsert=True)


# ---- ops bookkeeping (run log and bookmarks: moviepipe.runlog) ----------------------------


def record_list_failure(conn: psycopg.Connection, run_id: str, entity: str, exc: TmdbError) -> None:
    conn.execute(
        "insert into ops.extract_errors (source, entity_id, run_id, kind, status_code, message)"
        " values (%s, %s, %s, 'failed', %s, %s) on conflict do nothing",
        (SOURCE, entity, run_id, exc.status, str(exc)),
    )


# ---- listing ---------------------------------------------------------------------------------


def _paged(
    client: TmdbClient, path: str, params: dict[str, Any], max_pages: int
) -> Iterator[tuple[int, dict[str, Any] | TmdbError]]:
    """``(page, body or error)`` for pages 1..min(max_pages, total_pages, 500)."""
    try:
        first = client.get(path, {**params, "page": 1})
    except TmdbAuthError:
        raise
    except TmdbError as exc:
        yield 1, exc
        return
    yield 1, first
    for page in page_range(max_pages, int(first.get("total_pages") or 1))[1:]:
        try:
            yield page, client.get(path, {**params, "page": page})
        except TmdbAuthError:
            raise
        except TmdbError as exc:
            yield page, exc


def list_ids(
    client: TmdbClient,
    conn: psycopg.Connection,
    run_id: str,
    summary: ExtractSummary,
    *,
    discover_pages: int | None,
    popular: bool,
    windows: list[tuple[date, date]],
) -> list[int]:
    """Ids from discover/popular pages and change windows; failed pages are recorded."""
    found: list[int] = []
    sources: list[tuple[str, str, dict[str, Any], int]] = []
    if discover_pages:
        path = "/movie/popular" if popular else "/discover/movie"
        params = {} if popular else {"sort_by": "popularity.desc"}
        sources.append((path.strip("/"), path, params, discover_pages))
    for start, end in windows:
        params = {"start_date": start.isoformat(), "end_date": end.isoformat()}
        sources.append((f"changes:{start}..{end}", "/movie/changes", params, MAX_PAGE))
    for label, path, params, max_pages in sources:
        for page, body in _paged(client, path, params, max_pages):
            if isinstance(body, TmdbError):
                entity = f"{label}:page={page}"
                log.error("listing %s failed: %s", entity, body)
                record_list_failure(conn, run_id, entity, body)
                summary.failed_lists.append(entity)
                continue
            found.extend(int(r["id"]) for r in body.get("results") or [] if "id" in r)
    return list(dict.fromkeys(found))


# ---- the run ---------------------------------------------------------------------------------


def _fetch(client: TmdbClient, movie_id: int, abort: threading.Event) -> Outcome:
    if abort.is_set():
        return Outcome(movie_id, kind="skipped")
    try:
        return Outcome(movie_id, payload=client.movie_details(movie_id))
    except TmdbAuthError:
        abort.set()
        raise
    except TmdbNotFound as exc:
        return Outcome(movie_id, kind="missing", status_code=exc.status, message=str(exc))
    except TmdbError as exc:
        return Outcome(movie_id, kind="failed", status_code=exc.status, message=str(exc))


def _batches(
    client: TmdbClient, ids: list[int], concurrency: int, batch_size: int, abort: threading.Event
) -> Iterator[list[Outcome]]:
    """Outcomes in batches as they complete; at most a few batches in flight (bounded memory)."""
    pending: set[Future[Outcome]] = set()
    batch: list[Outcome] = []
    queue = iter(ids)
    # Enough in flight that the workers keep fetching while a batch is being landed.
    window = max(concurrency * 4, batch_size * 3)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tmdb") as pool:
        try:
            while True:
                while len(pending) < window and not abort.is_set():
                    movie_id = next(queue, None)
                    if movie_id is None:
                        break
                    pending.add(pool.submit(_fetch, client, movie_id, abort))
                if not pending:
                    break
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    batch.append(fut.result())  # re-raises TmdbAuthError
                while len(batch) >= batch_size:
                    yield batch[:batch_size]
                    batch = batch[batch_size:]
            if batch:
                yield batch
        finally:
            abort.set()
            for fut in pending:
                fut.cancel()


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
    run_id = new_run_id(SOURCE)
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
        start_run(conn, run_id, STEP, args)
        try:
            ids = list(dict.fromkeys(int(i) for i in movie_ids)) if movie_ids is not None else []
            windows: list[tuple[date, date]] = []
            if changes:
                mark = get_bookmark(conn, CHANGES_BOOKMARK)
                begin = since or (date.fromisoformat(mark) if mark else today - timedelta(days=1))
                windows = change_windows(begin, today)
            if discover_pages or windows:
                ids += list_ids(
                    client,
                    conn,
                    run_id,
                    summary,
                    discover_pages=discover_pages,
                    popular=popular,
                    windows=windows,
                )
                ids = list(dict.fromkeys(ids))
            elif movie_ids is None and not changes:
                ids = list(settings.tunables.tmdb.default_movie_ids)
            summary.ids_total = len(ids)
            abort = threading.Event()
            with tqdm(total=len(ids), unit="movie", disable=not progress, desc="tmdb") as bar:
                for batch in _batches(client, ids, concurrency, batch_size, abort):
                    new, unchanged = land_batch(conn, batch, run_id, mongo_coll=coll, bronze=bronze)
                    summary.new += new
                    summary.unchanged += unchanged
                    summary.fetched += new + unchanged
                    for o in batch:
                        if o.kind == "missing":
                            summary.missing_ids.append(o.movie_id)
                        elif o.kind == "failed":
                            summary.failed_ids.append(o.movie_id)
                    bar.update(len(batch))
            summary.missing = len(summary.missing_ids)
            summary.failed = len(summary.failed_ids) + len(summary.failed_lists)
            summary.status = "succeeded" if summary.failed == 0 else "partial"
        except TmdbAuthError as exc:
            summary.status = "failed"
            summary.error = f"TMDB rejected the credentials, run aborted: {exc}"
            raise
        except BaseException as exc:
            summary.status = "failed"
            summary.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            if bronze is not None:
                bronze.close()
            if own_client:
                client.close()
            _fill_stats(summary, client, t0)
            with conn.transaction():
                finish_run(conn, run_id, summary.status, summary.for_log(), summary.error)
                if changes and summary.status == "succeeded":
                    set_bookmark(conn, CHANGES_BOOKMARK, today.isoformat(), run_id)
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
