"""``--changes``: the ``/movie/changes`` windows since the ``tmdb.changes`` bookmark.

TMDB answers at most 14 days per request, so the span from the bookmark (or ``--since``, or
yesterday on a first run) to today is cut into consecutive windows of at most 14 days, each
read as a paged :class:`~extract.tmdb.paging.Listing`. The bookmark moves to today only after
a run with no failure, in the transaction that logs the run's end; the next run re-reads the
bookmark day itself, which is harmless (landing is idempotent).

Usage::

    windows = change_windows_since(conn, since=None, today=date.today())
    listings = change_listings(windows)
    ...
    advance_bookmark(conn, today, run_id)   # inside the finish transaction
"""

from __future__ import annotations

from datetime import date, timedelta

import psycopg

from extract.tmdb.paging import MAX_PAGE, Listing
from moviepipe.runlog import get_bookmark, set_bookmark

CHANGES_BOOKMARK = "tmdb.changes"
MAX_WINDOW_DAYS = 14


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


def change_windows_since(
    conn: psycopg.Connection, since: date | None, today: date
) -> list[tuple[date, date]]:
    """Windows from ``since``, else the bookmark, else yesterday, up to ``today``."""
    mark = get_bookmark(conn, CHANGES_BOOKMARK)
    begin = since or (date.fromisoformat(mark) if mark else today - timedelta(days=1))
    return change_windows(begin, today)


def change_listings(windows: list[tuple[date, date]]) -> list[Listing]:
    """One paged ``/movie/changes`` listing per window."""
    return [
        Listing(
            f"changes:{start}..{end}",
            "/movie/changes",
            {"start_date": start.isoformat(), "end_date": end.isoformat()},
            MAX_PAGE,
        )
        for start, end in windows
    ]


def advance_bookmark(conn: psycopg.Connection, today: date, run_id: str) -> None:
    """Move the bookmark to ``today``; in the caller's transaction."""
    set_bookmark(conn, CHANGES_BOOKMARK, today.isoformat(), run_id)
