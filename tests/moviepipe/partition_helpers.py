"""Event batches at chosen instants, and where their rows landed (partition tests)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pandas as pd

from moviepipe.events import REJECTED_COLUMNS, VALID_COLUMNS


def valid_batch(stamps: list[datetime], ids: list[str] | None = None) -> pd.DataFrame:
    """One valid watch event per instant (new event ids unless given)."""
    ids = ids or [str(uuid.uuid4()) for _ in stamps]
    frame = pd.DataFrame(
        {
            "event_id": ids,
            "event_type": "watch",
            "event_ts": pd.to_datetime(stamps, utc=True),
            "user_id": "u1",
            "session_id": None,
            "movie_id": 7,
            "payload": json.dumps({"position_s": 1, "duration_s": 10}),
            "kafka_topic": "user_watch_log",
            "kafka_partition": 0,
            "kafka_offset": range(len(stamps)),
            "kafka_timestamp": pd.to_datetime(stamps, utc=True),
        }
    )
    return frame[list(VALID_COLUMNS)]


def rejected_batch(stamps: list[datetime | None], topic: str = "user_watch_log") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kafka_topic": topic,
            "kafka_partition": 0,
            "kafka_offset": range(len(stamps)),
            "kafka_timestamp": pd.to_datetime(stamps, utc=True),
            "raw_key": None,
            "raw_value": [b"{"] * len(stamps),
            "reason": "malformed_json",
            "reason_detail": None,
        }
    )[list(REJECTED_COLUMNS)]


def no_rejects() -> pd.DataFrame:
    return pd.DataFrame(columns=list(REJECTED_COLUMNS))


def children(conn, table: str, where: str = "true", params: tuple = ()) -> dict[str, int]:
    """Rows of ``table`` per partition it is stored in."""
    rows = conn.execute(
        f"select tableoid::regclass::text, count(*) from {table} where {where} group by 1",
        params,
    ).fetchall()
    return dict(rows)
