"""Raw fixtures for the warehouse tests: a handful of TMDB payloads and events with known values.

The KPI values the tests expect are worked out by hand from these numbers in
``test_build.py``; change one here and the expectations there must change too.

Usage::

    with db.connect(settings, "loader") as conn:
        land_movies(conn, MOVIES)
        land_events(conn, "raw.user_events", EVENTS_RUN1)
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

M = 1_000_000


def movie(
    movie_id: int,
    title: str,
    *,
    status: str = "Released",
    budget: int = 0,
    revenue: int = 0,
    popularity: float = 1.0,
    vote_average: float = 0.0,
    vote_count: int = 0,
    collection: tuple[int, str] | None = None,
    genres: Sequence[tuple[int, str]] = (),
    cast: Sequence[tuple[int, str, int]] = (),
    directors: Sequence[tuple[int, str]] = (),
    release_date: str = "2010-06-01",
) -> dict[str, Any]:
    """A TMDB ``/movie/{id}?append_to_response=credits,keywords,release_dates`` body."""
    return {
        "adult": False,
        "id": movie_id,
        "imdb_id": f"tt{movie_id:07d}",
        "title": title,
        "original_title": title,
        "original_language": "en",
        "overview": f"The story of {title}.",
        "tagline": "",
        "homepage": "",
        "status": status,
        "release_date": release_date,
        "runtime": 100,
        "budget": budget,
        "revenue": revenue,
        "popularity": popularity,
        "vote_average": vote_average,
        "vote_count": vote_count,
        "belongs_to_collection": (
            {"id": collection[0], "name": collection[1], "poster_path": None, "backdrop_path": None}
            if collection
            else None
        ),
        "genres": [{"id": gid, "name": name} for gid, name in genres],
        "credits": {
            "cast": [
                {
                    "id": pid,
                    "name": name,
                    "character": f"Role of {name}",
                    "order": order,
                    "credit_id": f"c{movie_id}-{pid}",
                    "gender": 0,
                    "known_for_department": "Acting",
                }
                for pid, name, order in cast
            ],
            "crew": [
                {
                    "id": 900 + movie_id,
                    "name": f"Writer {movie_id}",
                    "job": "Screenplay",
                    "department": "Writing",
                    "credit_id": f"w{movie_id}",
                    "gender": 0,
                },
                *(
                    {
                        "id": pid,
                        "name": name,
                        "job": "Director",
                        "department": "Directing",
                        "credit_id": f"d{movie_id}-{pid}",
                        "gender": 0,
                    }
                    for pid, name in directors
                ),
            ],
        },
        "keywords": {"keywords": [{"id": 1, "name": "fixture"}]},
        "release_dates": {"results": []},
    }


DANA, EVE, FAY, GUS = (
    (501, "Dana Director"),
    (502, "Eve Auteur"),
    (503, "Fay First"),
    (504, "Gus Second"),
)
ACTION, ADVENTURE, DRAMA = (28, "Action"), (12, "Adventure"), (18, "Drama")
ALPHA_CAST = [  # listed out of billing order on purpose: top cast follows `order`
    (601, "Actor Six", 5),
    (602, "Actor Two", 1),
    (603, "Actor One", 0),
    (604, "Actor Four", 3),
    (605, "Actor Three", 2),
    (606, "Actor Five", 4),
]

MOVIES: list[dict[str, Any]] = [
    movie(
        101,
        "Alpha",
        budget=100 * M,
        revenue=500 * M,
        popularity=50.5,
        vote_average=7.5,
        vote_count=1000,
        collection=(9001, "Alpha Collection"),
        genres=[ACTION, ADVENTURE],
        cast=ALPHA_CAST,
        directors=[DANA],
    ),
    movie(
        102,
        "Beta",
        budget=20 * M,
        revenue=20 * M,
        popularity=10.0,
        vote_average=6.0,
        vote_count=50,
        collection=(9001, "Alpha Collection"),
        genres=[ACTION],
        cast=[(603, "Actor One", 0)],
        directors=[DANA],
    ),
    movie(
        103,
        "Gamma",
        budget=5 * M,
        revenue=50 * M,
        popularity=30.0,
        vote_average=8.0,
        vote_count=5,
        genres=[DRAMA],
        directors=[EVE],
    ),
    movie(
        104,
        "Delta",
        budget=0,
        revenue=0,
        popularity=5.0,
        vote_average=0.0,
        vote_count=0,
        genres=[DRAMA],
        directors=[FAY],
        release_date="",
    ),
    movie(
        105,
        "Epsilon",
        status="Post Production",
        budget=300 * M,
        revenue=0,
        popularity=99.0,
        vote_average=9.9,
        vote_count=99,
        genres=[ACTION],
        directors=[DANA],
    ),
    movie(
        106,
        "Zeta",
        budget=50 * M,
        revenue=25 * M,
        popularity=50.5,
        vote_average=7.5,
        vote_count=200,
        genres=[DRAMA, ACTION],
        directors=[EVE],
    ),
    movie(
        107,
        "Eta",
        budget=10 * M,
        revenue=30 * M,
        popularity=1.0,
        vote_average=4.0,
        vote_count=10,
        collection=(9002, "Eta Saga"),
        genres=[ADVENTURE],
        directors=[FAY, GUS],
    ),
]
# An older payload of Alpha, landed first: staging must take the latest one.
ALPHA_OLD = movie(101, "Alpha (working title)", budget=1 * M, revenue=1 * M, popularity=1.0)


def payload_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def land_movies(
    conn,
    payloads: Iterable[dict[str, Any]],
    run_id: str = "fixture",
    ingested_at: datetime | None = None,
) -> None:
    for p in payloads:
        conn.execute(
            "insert into raw.tmdb_movies (movie_id, payload, payload_hash, ingested_at, run_id)"
            " values (%s, %s, %s, coalesce(%s, now()), %s) on conflict do nothing",
            (p["id"], Jsonb(p), payload_hash(p), ingested_at, run_id),
        )


def eid(n: int) -> str:
    """A deterministic event UUID per fixture number."""
    return str(uuid.UUID(int=n))


T0 = datetime.fromisoformat("2024-03-01T23:50:00+00:00")


def event(
    n: int, event_type: str, at: datetime, user_id: str, movie_id: int, payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "event_id": eid(n),
        "event_type": event_type,
        "event_ts": at,
        "user_id": user_id,
        "session_id": None,
        "movie_id": movie_id,
        "payload": payload,
    }


def watch(watched: float, duration: float = 1000.0) -> dict[str, Any]:
    return {"position_s": watched, "duration_s": duration, "watched_s": watched}


# user u1: session A crosses midnight (23:50, 00:10, 00:30); B at 02:00; C at 03:00.
# The late event 6 at 02:30 is exactly 30 minutes from B and C (not more): it merges them.
EVENTS_RUN1 = [
    event(1, "watch", T0, "u1", 101, watch(950)),
    event(2, "click", T0 + timedelta(minutes=20), "u1", 101, {"target": "trailer", "page": "home"}),
    event(3, "comment", T0 + timedelta(minutes=40), "u1", 103, {"text": "great", "rating": 4.5}),
    event(4, "watch", T0 + timedelta(minutes=130), "u1", 999, watch(100)),
    event(5, "watch", T0 + timedelta(minutes=190), "u1", 102, watch(900)),
    event(
        8, "comment", T0 + timedelta(days=3, minutes=610), "u2", 106, {"text": "meh", "rating": 2.0}
    ),
]
LATE_EVENT = event(6, "watch", T0 + timedelta(minutes=160), "u1", 101, watch(1000, 1000))
# Only in the MongoDB backup (Spark missed it): event 7; event 8 is in both copies.
MONGO_ONLY = event(7, "click", T0 + timedelta(days=3, minutes=600), "u2", 106, {"target": "poster"})
FALLBACK_EVENTS = [event(9, "watch", T0 + timedelta(days=1), "u3", 107, watch(450, 500))]


def land_events(
    conn, table: str, events: Iterable[dict[str, Any]], run_id: str = "fixture"
) -> None:
    assert table in ("raw.user_events", "raw.user_events_fallback")
    for i, e in enumerate(events):
        conn.execute(
            f"insert into {table} (event_id, event_type, event_ts, user_id, session_id, movie_id,"
            " payload, kafka_topic, kafka_partition, kafka_offset, run_id)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s) on conflict do nothing",
            (
                e["event_id"],
                e["event_type"],
                e["event_ts"],
                e["user_id"],
                e["session_id"],
                e["movie_id"],
                Jsonb(e["payload"]),
                f"user_{e['event_type']}_log",
                i,
                run_id,
            ),
        )


def backup_document(
    e: dict[str, Any], topic: str, offset: int, valid: bool = True
) -> dict[str, Any]:
    envelope = {**e, "event_ts": e["event_ts"].isoformat()}
    return {
        "_id": f"{topic}:0:{offset}",
        "topic": topic,
        "partition": 0,
        "offset": offset,
        "event": envelope,
        "valid": valid,
    }


def land_backup(conn, table: str, docs: Iterable[dict[str, Any]], run_id: str = "fixture") -> None:
    assert table in ("raw.mongo_user_logs", "raw.mongo_comments")
    for d in docs:
        conn.execute(
            f"insert into {table} (doc_id, document, run_id) values (%s, %s, %s)"
            " on conflict do nothing",
            (d["_id"], Jsonb(d), run_id),
        )


def land_run1(conn) -> None:
    """Everything the first build sees."""
    land_movies(conn, [ALPHA_OLD], ingested_at=datetime.fromisoformat("2024-01-01T00:00:00+00:00"))
    land_movies(conn, MOVIES)
    land_events(conn, "raw.user_events", EVENTS_RUN1)
    land_events(conn, "raw.user_events_fallback", FALLBACK_EVENTS)
    land_backup(
        conn,
        "raw.mongo_user_logs",
        [
            backup_document(MONGO_ONLY, "user_click_log", 7),
            # a message the contract rejected: kept in the backup, never a silver event
            {
                "_id": "user_click_log:0:8",
                "topic": "user_click_log",
                "partition": 0,
                "offset": 8,
                "event": {"event_type": "click", "user_id": "u2"},
                "valid": False,
            },
        ],
    )
    land_backup(
        conn, "raw.mongo_comments", [backup_document(EVENTS_RUN1[-1], "user_comment_log", 3)]
    )
