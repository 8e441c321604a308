"""The monthly partitions of the event tables (``moviepipe/sql/007_partitions.sql``):
which tables, by which key, and the month arithmetic (UTC calendar months) that the
loader (:mod:`streaming.sink`) and retention (:mod:`moviepipe.retention`) share::

    from moviepipe.partitions import PARTITION_KEYS, add_months, month_start
    add_months(month_start(ts), 3)      # the first instant of the third month after ts's
"""

from __future__ import annotations

from datetime import UTC, datetime

# Each partitioned table and its partition key.
PARTITION_KEYS = {
    "raw.user_events": "event_ts",
    "raw.user_events_fallback": "event_ts",
    "raw.user_events_rejected": "kafka_timestamp",
}


def month_start(ts: datetime) -> datetime:
    """The first instant of ``ts``'s calendar month in UTC (naive means UTC)."""
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return ts.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def add_months(month: datetime, n: int) -> datetime:
    """``month`` (a month's first instant) moved by ``n`` months, back when negative."""
    years, index = divmod(month.month - 1 + n, 12)
    return month.replace(year=month.year + years, month=index + 1)
