"""The collector's dead letters: rejected events kept in ``raw.user_events_rejected``.

A rejected event never reached Kafka, so its row says where it came from:
``kafka_topic`` is ``<prefix>collector`` (no such topic exists, so the Kafka
reconciliation never counts these rows), ``kafka_partition`` and
``kafka_offset`` are null, ``kafka_timestamp`` (the table's partition key) is
when the collector received it, ``run_id`` ``collect-<request_id>``,
``source_flag`` ``collector``. Each request is a receipt of its own: a client
that sends the same bad event twice leaves two rows, one per request. Written
as the loader role through a small connection pool (``streaming.collector``
tunables), opened without waiting for PostgreSQL, so the collector starts (and
produces valid events) while the database is down. A month without its
partition yet lands in the default partition (the landing's ``ensure_months``
creates the months ahead and moves such rows out).

Usage::

    dead = DeadLetters(settings)
    await dead.open()
    await dead.keep(rejected_results, received_at, "collect-1f2e...")
    await dead.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from psycopg_pool import AsyncConnectionPool

from moviepipe.config import Settings
from moviepipe.events import REJECTED_COLUMNS

if TYPE_CHECKING:
    from streaming.collector.batch import Result

SOURCE_FLAG = "collector"
DEAD_LETTER_TOPIC = "collector"  # behind the topic prefix, like the event topics
_INSERT = ("insert into raw.user_events_rejected ({}, run_id, source_flag) values ({})").format(
    ", ".join(REJECTED_COLUMNS), ", ".join(["%s"] * (len(REJECTED_COLUMNS) + 2))
)


def dead_letter_rows(
    rejected: Sequence[Result], topic: str, received: datetime, run_id: str
) -> list[tuple]:
    """Rows in the order of ``REJECTED_COLUMNS``, then ``run_id`` and ``source_flag``."""
    return [
        (
            topic,
            None,
            None,
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
    """Writer of dead letters over a pool of loader connections."""

    def __init__(self, settings: Settings) -> None:
        config = settings.tunables.streaming.collector
        self.topic = settings.topic(DEAD_LETTER_TOPIC)
        info = {**settings.pg_conninfo("loader"), "application_name": "moviepipe-collector"}
        self.pool = AsyncConnectionPool(
            conninfo="",
            kwargs=info,
            min_size=1,
            max_size=config.pool_max_size,
            timeout=config.pool_timeout_s,
            open=False,
            name="moviepipe-collector",
        )

    async def open(self) -> None:
        await self.pool.open(wait=False)

    async def keep(self, rejected: Sequence[Result], received: datetime, run_id: str) -> None:
        """Insert ``rejected`` in one transaction; raises when PostgreSQL did not take them."""
        rows = dead_letter_rows(rejected, self.topic, received, run_id)
        async with self.pool.connection() as conn, conn.cursor() as cur:
            await cur.executemany(_INSERT, rows)

    async def close(self) -> None:
        await self.pool.close()
