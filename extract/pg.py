"""PostgreSQL helpers shared by the extractors' loaders.

Usage::

    added = insert_returning(cur, "insert ... on conflict do nothing returning id", rows)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg


def insert_returning(cur: psycopg.Cursor, query: str, rows: Sequence[Sequence[Any]]) -> list[Any]:
    """Run ``query`` (an ``insert ... returning <col>``) for every row; the returned first
    column of each row actually inserted (``on conflict do nothing`` rows return nothing)."""
    cur.executemany(query, rows, returning=True)
    out: list[Any] = []
    while True:
        out.extend(r[0] for r in cur.fetchall())
        if not cur.nextset():
            return out
