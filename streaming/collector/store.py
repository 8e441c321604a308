"""The collector's dead letters: rejected events kept in ``raw.user_events_rejected``.

A rejected event has no Kafka coordinates, so its row says where it came from:
``kafka_topic`` is ``<prefix>collector`` (no such topic exists, so the Kafka
reconciliation never counts these rows), ``kafka_partition`` is -1 and
``kafka_offset`` a 63-bit hash of the event's bytes: the same bytes sent again
keep one row (``on conflict do nothing``). ``kafka_timestamp`` is when the
collector received it, ``run_id`` ``collect-<request_id>``, ``source_flag``
``collector``. Written as the loader role over one connection, opened on the
first dead letter and reopened after a failure.

Usage::

    dead = DeadLetters(settings)
    dead.keep(rejected_results, received_at, "collect-1f2e...")
    dead.close()
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from moviepipe import db
from moviepipe.config import Settings
from moviepipe.events import REJECTED_COLUMNS
from streaming.collector.batch import dead_letter_offset

if TYPE_CHECKING:
    import psycopg

    from streaming.collector.batch import Result

SOURCE_FLAG = "collector"
DEAD_LETTER_TOPIC = "collector"  # behind the topic prefix, like the event topics
_INSERT = (
    "insert into raw.user_events_rejected ({}, run_id, source_flag)"
    " values ({}) on conflict do nothing"
).format(", ".join(REJECTED_COLUMNS), ", ".join(["%s"] * (len(REJECTED_COLUMNS) + 2)))


def dead_letter_rows(
    rejected: Sequence[Result], topic: str, received: datetime, run_id: str
) -> list[tuple]:
    """Rows in the order of ``REJECTED_COLUMNS``, then ``run_id`` and ``source_flag``."""
    return [
        (
            topic,
            -1,
            dead_letter_offset(r.raw),
            received,
            None,
            r.raw,
            r.reason,
            r.detail,
            run_id,
            SOURCE_FLAG,
        )
        for r in rejected
    ]


class DeadLetters:
    """Thread-safe writer of dead letters over one lazily opened loader connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.topic(DEAD_LETTER_TOPIC)
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    def keep(self, rejected: Sequence[Result], received: datetime, run_id: str) -> None:
        """Insert ``rejected`` and commit; raises when PostgreSQL did not take them."""
        rows = dead_letter_rows(rejected, self.topic, received, run_id)
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = db.connect(self.settings, "loader")
                with self._conn.transaction(), self._conn.cursor() as cur:
                    cur.executemany(_INSERT, rows)
            except Exception:
                self._close()  # a broken connection: the next request opens a new one
                raise

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._close()
