"""What the TMDB extractor lands: a movie's payload, its hash and its source flag.

Every sink (PostgreSQL, MongoDB, bronze files) stores the same ``(movie_id, payload,
payload_hash)`` rows, tagged ``source_flag = 'tmdb_api'``; the hash of the canonical JSON is
what makes a re-landed, unchanged payload a no-op.

Usage::

    from extract.tmdb.records import landed_rows, payload_hash
    payload_hash({"id": 550, "title": "Fight Club"})   # 64 hex digits, key order ignored
    rows = landed_rows(outcomes)                        # [(movie_id, payload, hash), ...]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SOURCE = "tmdb"
SOURCE_FLAG = "tmdb_api"

Row = tuple[int, dict[str, Any], str]
"""``(movie_id, payload, payload_hash)``: one landed movie."""


@dataclass
class Outcome:
    """What fetching one id gave: a payload, or why not (``missing``, ``failed``, ``skipped``)."""

    movie_id: int
    payload: dict[str, Any] | None = None
    kind: str | None = None  # None (fetched), 'missing', 'failed' or 'skipped'
    status_code: int | None = None
    message: str | None = None


def canonical_json(payload: Any) -> str:
    """Key-sorted, compact JSON: equal documents give equal text whatever the key order."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(payload: Any) -> str:
    """SHA-256 (hex) of the canonical JSON."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def landed_rows(outcomes: Iterable[Outcome]) -> list[Row]:
    """The fetched payloads of ``outcomes`` with their hashes."""
    return [(o.movie_id, o.payload, payload_hash(o.payload)) for o in outcomes if o.payload]
