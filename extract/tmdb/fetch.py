"""The fetch pool: movie details fetched concurrently, yielded in batches as they complete.

Workers share the client (and its rate limit). At most a few batches are in flight, so
memory does not grow with the number of ids; a bad key (:class:`TmdbAuthError`) sets the
abort flag, cancels the queued fetches and is re-raised to the caller.

Usage::

    abort = threading.Event()
    for batch in fetch_batches(client, ids, concurrency=16, batch_size=100, abort=abort):
        land(batch)   # list[Outcome]
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from extract.tmdb.client import TmdbAuthError, TmdbClient, TmdbError, TmdbNotFound
from extract.tmdb.records import Outcome


def fetch_one(client: TmdbClient, movie_id: int, abort: threading.Event) -> Outcome:
    """One movie's details, or ``missing`` (404) / ``failed`` (after retries) / ``skipped``."""
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


def fetch_batches(
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
                    pending.add(pool.submit(fetch_one, client, movie_id, abort))
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
