"""Which movie ids to fetch: ``--movie-ids`` specs and paged TMDB listings.

A :class:`Listing` is one paged endpoint (``/discover/movie``, ``/movie/popular``, or one
``/movie/changes`` window, see :mod:`extract.tmdb.changes`); :func:`list_ids` reads pages
1..N of each, never past ``total_pages`` nor TMDB's cap of 500, and returns the ids in
first-seen order with the pages that failed (a bad key still raises
:class:`~extract.tmdb.client.TmdbAuthError`).

Usage::

    ids = parse_movie_ids("550,299534")          # or "@ids.txt"
    found, failures = list_ids(client, [discover_listing(5, popular=False)])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extract.tmdb.client import TmdbAuthError, TmdbClient, TmdbError

MAX_PAGE = 500


@dataclass(frozen=True)
class Listing:
    """A paged TMDB endpoint: ``label`` names it in ``ops.extract_errors``."""

    label: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    max_pages: int = MAX_PAGE


@dataclass(frozen=True)
class PageFailure:
    """A listing page that still failed after the client's retries."""

    entity: str  # e.g. "discover/movie:page=3"
    error: TmdbError


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


def page_range(requested: int, total_pages: int) -> range:
    """Pages 1..N, never past what TMDB reports nor its cap of 500."""
    return range(1, max(min(requested, total_pages, MAX_PAGE), 0) + 1)


def discover_listing(pages: int, *, popular: bool) -> Listing:
    """Pages 1..``pages`` of ``/discover/movie`` by popularity, or of ``/movie/popular``."""
    if popular:
        return Listing("movie/popular", "/movie/popular", {}, pages)
    return Listing("discover/movie", "/discover/movie", {"sort_by": "popularity.desc"}, pages)


def paged(client: TmdbClient, listing: Listing) -> Iterator[tuple[int, dict[str, Any] | TmdbError]]:
    """``(page, body or error)`` for pages 1..min(max_pages, total_pages, 500)."""
    try:
        first = client.get(listing.path, {**listing.params, "page": 1})
    except TmdbAuthError:
        raise
    except TmdbError as exc:
        yield 1, exc
        return
    yield 1, first
    for page in page_range(listing.max_pages, int(first.get("total_pages") or 1))[1:]:
        try:
            yield page, client.get(listing.path, {**listing.params, "page": page})
        except TmdbAuthError:
            raise
        except TmdbError as exc:
            yield page, exc


def list_ids(
    client: TmdbClient, listings: Iterable[Listing]
) -> tuple[list[int], list[PageFailure]]:
    """The ids on every page of ``listings`` (first-seen order) and the pages that failed."""
    found: list[int] = []
    failures: list[PageFailure] = []
    for listing in listings:
        for page, body in paged(client, listing):
            if isinstance(body, TmdbError):
                failures.append(PageFailure(f"{listing.label}:page={page}", body))
                continue
            found.extend(int(r["id"]) for r in body.get("results") or [] if "id" in r)
    return list(dict.fromkeys(found)), failures
