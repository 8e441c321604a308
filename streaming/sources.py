"""Event sources for the producer: a seeded session simulator and a MovieLens replay.

``simulate_events(n, seed, movie_ids, start)`` yields realistic sessions:
a user arrives (more in the evening, more at weekends), browses and clicks
posters, trailers and details, watches a movie (one watch event per viewing
chunk with position, duration and seconds watched), and sometimes comments
with a rating; now and then an operator updates a movie. Same seed, same
events, same ``event_id``s, so a re-run is idempotent downstream.

``movielens_events(data_dir)`` replays MovieLens ml-latest-small in the
contract's canonical form (:func:`canonical_event`): each rating becomes a
completed ``watch`` event (MovieLens has no runtime, so ``duration_s`` is a
nominal 6000 s; the star rating is kept only if the contract names a watch
``rating`` field), each tag a ``comment`` whose text is the tag. Original
timestamps are kept; ``session_id`` names the user's sitting (:func:`sittings`:
a new one after the rules' inactivity gap, 30 minutes), the same on every run;
MovieLens ids map to TMDB ids through ``links.csv``; rows without a TMDB id are
skipped and counted in ``.skipped``. ``event_id`` is a UUIDv5 of the source row.

``spread_until(n, now)`` picks the start and arrival rate that make ``n``
simulated events end about ``now`` (what ``moviepipe stream produce`` sends).

Usage::

    for event in simulate_events(1000, seed=7, movie_ids=[603, 604], start=start): ...
    start, per_hour = spread_until(10_000, datetime.now(UTC))
    replay = movielens_events(Path("../shared/data/movielens_small"))
    events = list(replay); replay.skipped
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from moviepipe.events import ENVELOPE_FIELDS, PAYLOAD_FIELDS

# Relative arrival rate by hour of day (UTC) and by weekday (Mon=0): evenings and weekends peak.
HOURLY = [0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.5, 0.6, 0.6, 0.7, 0.8,
          0.9, 0.9, 0.9, 1.0, 1.1, 1.3, 1.6, 2.0, 2.3, 2.2, 1.6, 0.8]  # fmt: skip
WEEKLY = [0.85, 0.85, 0.9, 0.95, 1.15, 1.35, 1.3]
DEFAULT_MOVIE_IDS = tuple(range(1, 1001))  # when neither the warehouse nor a sample has movies
# Below the simulator's mean (about 8 events an arrival), so the spread ends before now
# (about a quarter of the window early) rather than in the future.
EVENTS_PER_SESSION = 6
ML_NAMESPACE = uuid.UUID("5b0b9c9e-7a8e-4d53-9a49-2f1f0b6c1d2e")
CLICK_TARGETS = ("poster", "trailer", "details", "search_result", "recommendation")
COMMENT_WORDS = (
    "great", "boring", "moving", "funny", "slow", "beautiful", "overrated", "classic",
    "acting", "plot", "soundtrack", "ending", "visuals", "characters", "twist", "pacing",
)  # fmt: skip


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _event(rng, etype, ts, user, session, movie, payload) -> dict[str, Any]:
    return {"event_id": _uuid(rng), "event_type": etype, "event_ts": _iso(ts), "user_id": user,
            "session_id": session, "movie_id": movie, "payload": payload}  # fmt: skip


def _session(
    rng: random.Random, t: datetime, user: str, movies: Sequence[int], weights
) -> list[dict]:
    session = f"s-{rng.getrandbits(48):012x}"
    out = []
    for _ in range(rng.randint(1, 5)):  # browse
        t += timedelta(seconds=rng.uniform(3, 60))
        movie = rng.choices(movies, weights)[0]
        target = rng.choices(CLICK_TARGETS, (5, 2, 2, 1, 2))[0]
        out.append(
            _event(rng, "click", t, user, session, movie, {"target": target, "page": "/browse"})
        )
    if rng.random() < 0.7:  # watch the last movie clicked
        movie = out[-1]["movie_id"]
        duration = float(rng.randint(80, 180) * 60)
        t += timedelta(seconds=rng.uniform(5, 30))
        out.append(
            _event(
                rng, "click", t, user, session, movie, {"target": "play", "page": f"/movie/{movie}"}
            )
        )
        watched = duration * min(1.0, rng.betavariate(2.5, 0.8))
        position = 0.0
        while position < watched:
            chunk = min(watched - position, rng.uniform(300, 1800))
            position += chunk
            t += timedelta(seconds=chunk)
            payload = {
                "position_s": round(position, 1),
                "duration_s": duration,
                "watched_s": round(chunk, 1),
            }
            out.append(_event(rng, "watch", t, user, session, movie, payload))
        if rng.random() < 0.25:
            t += timedelta(seconds=rng.uniform(10, 120))
            rating = max(0.5, min(5.0, round(rng.gauss(3.6, 1.0) * 2) / 2))
            text = " ".join(rng.choices(COMMENT_WORDS, k=rng.randint(2, 12))).capitalize() + "."
            payload = {
                "comment_id": f"c-{rng.getrandbits(48):012x}",
                "text": text,
                "rating": rating,
            }
            out.append(_event(rng, "comment", t, user, session, movie, payload))
    return out


def simulate_events(
    n: int,
    seed: int,
    movie_ids: Sequence[int] = DEFAULT_MOVIE_IDS,
    start: datetime | None = None,
    *,
    users: int = 2000,
    sessions_per_hour: float = 120.0,
) -> Iterator[dict[str, Any]]:
    """``n`` events of seeded sessions from ``start``; popularity follows a Zipf-like curve."""
    rng = random.Random(seed)
    movies = list(movie_ids)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(movies))]
    t = start or datetime(2024, 1, 1, tzinfo=UTC)
    emitted = 0
    while emitted < n:
        rate = sessions_per_hour * HOURLY[t.hour] * WEEKLY[t.weekday()]
        t += timedelta(hours=rng.expovariate(rate))
        if rng.random() < 0.01:
            movie = rng.choice(movies)
            action = rng.choices(("update", "add", "delete"), (8, 1, 1))[0]
            fields = {"popularity": round(rng.uniform(1, 100), 2)}
            payload = {"action": action, "fields": fields}
            batch = [_event(rng, "movie_update", t, "ops", None, movie, payload)]
        else:
            user = str(100000 + int(users * rng.random() ** 1.5))  # a few heavy users
            batch = _session(rng, t, user, movies, weights)
        yield from batch[: n - emitted]
        emitted += min(len(batch), n - emitted)


def spread_until(
    n_events: int, now: datetime, start: datetime | None = None
) -> tuple[datetime, float]:
    """``(start, sessions_per_hour)`` for :func:`simulate_events`, so that ``n_events``
    events run from ``start`` to about ``now``.

    ``start`` defaults to midnight (UTC) seven days before ``now``; a naive ``start``
    is UTC. At least one hour of simulated time and one session an hour.
    """
    if start is None:
        midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        start = midnight - timedelta(days=7)
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    hours = max(1.0, (now - start).total_seconds() / 3600)
    return start, max(1.0, n_events / EVENTS_PER_SESSION / hours)


def canonical_event(values: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """An event in the contract's canonical form: envelope and payload keys in the order of
    ``ENVELOPE_FIELDS``/``PAYLOAD_FIELDS``, absent rather than null, no field the contract
    does not name (so ``json.dumps(..., separators=(",", ":"))`` takes the fast paths)."""
    fields = PAYLOAD_FIELDS[values["event_type"]]
    body = {n: payload[n] for n, _, _ in fields if payload.get(n) is not None}
    return {
        name: body if name == "payload" else values[name]
        for name, _, _ in ENVELOPE_FIELDS
        if name == "payload" or values.get(name) is not None
    }


def sittings(users: pd.Series, seconds: pd.Series, gap_s: float) -> pd.Series:
    """A session id per row: a user's rows less than ``gap_s`` apart share one sitting,
    named after the user and the sitting's first second (``ml-<user>-<epoch>``), so a
    re-run gives the same ids. ``seconds`` are epoch seconds; any row order."""
    order = pd.DataFrame({"u": users, "t": seconds}).sort_values(["u", "t"], kind="stable")
    new = order["u"].ne(order["u"].shift()) | order["t"].diff().gt(gap_s)
    start = order["t"].where(new).ffill().astype("int64")
    ids = "ml-" + order["u"].astype(str) + "-" + start.astype(str)
    return ids.reindex(users.index)


class MovieLensReplay:
    """Iterable replay of a MovieLens directory; ``skipped`` counts rows with no TMDB id.

    ``gap_minutes``: the inactivity that ends a sitting (default: the rules'
    ``sessions.inactivity_gap_minutes``, what dbt sessionizes by).
    """

    def __init__(self, data_dir: Path | str, gap_minutes: float | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.gap_minutes = gap_minutes
        self.skipped = 0
        self.emitted = 0
        self._pass: Iterator[dict[str, Any]] | None = None

    def _frames(self) -> pd.DataFrame:
        links = pd.read_csv(self.data_dir / "links.csv", dtype={"tmdbId": "Int64"})
        ratings = pd.read_csv(self.data_dir / "ratings.csv").assign(kind="rating")
        tags = pd.read_csv(self.data_dir / "tags.csv", dtype={"tag": str}).assign(kind="tag")
        rows = pd.concat([ratings, tags], ignore_index=True).merge(
            links[["movieId", "tmdbId"]], on="movieId", how="left"
        )
        missing = rows["tmdbId"].isna() | (
            rows["kind"].eq("tag") & rows["tag"].fillna("").str.strip().eq("")
        )
        self.skipped = int(missing.sum())
        if self.gap_minutes is None:
            from moviepipe.rules import load_rules

            self.gap_minutes = load_rules().sessions.inactivity_gap_minutes
        # a skipped row is still the user's activity: the sittings count it
        gap_s = self.gap_minutes * 60
        rows = rows.assign(session=sittings(rows["userId"], rows["timestamp"], gap_s))
        return rows[~missing].sort_values(["timestamp", "userId", "movieId", "kind"], kind="stable")

    def __next__(self) -> dict[str, Any]:
        # usable as an iterator too: next(replay) walks one shared pass
        if self._pass is None:
            self._pass = iter(self)
        return next(self._pass)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.emitted = 0
        for r in self._frames().itertuples(index=False):
            ts = _iso(datetime.fromtimestamp(int(r.timestamp), UTC))
            key = (
                f"{r.kind}:{r.userId}:{r.movieId}:{r.timestamp}:{r.tag if r.kind == 'tag' else ''}"
            )
            values = {"event_id": str(uuid.uuid5(ML_NAMESPACE, key)), "event_ts": ts,
                      "user_id": str(int(r.userId)), "session_id": r.session,
                      "movie_id": int(r.tmdbId)}  # fmt: skip
            if r.kind == "rating":
                # the rating stays only if the contract names it for a watch (canonical_event)
                payload = {"position_s": 6000.0, "duration_s": 6000.0, "watched_s": 6000.0,
                           "rating": float(r.rating)}  # fmt: skip
                yield canonical_event({**values, "event_type": "watch"}, payload)
            else:
                payload = {"text": str(r.tag).strip()[:5000]}
                yield canonical_event({**values, "event_type": "comment"}, payload)
            self.emitted += 1


def movielens_events(data_dir: Path | str, gap_minutes: float | None = None) -> MovieLensReplay:
    """The replay of ``data_dir`` (iterate it; then read ``.skipped``)."""
    return MovieLensReplay(data_dir, gap_minutes)


def warehouse_movie_ids(settings) -> list[int]:
    """Movie ids from raw.tmdb_movies, or from the committed sample; empty when neither exists."""
    from moviepipe import db

    try:
        with db.connect(settings, "loader") as conn:
            ids = [
                r[0]
                for r in conn.execute("select distinct movie_id from raw.tmdb_movies order by 1")
            ]
        if ids:
            return ids
    except Exception:
        pass
    import gzip
    import json

    # the synthetic TMDB sample the extract step ships (one JSON document per line)
    path = settings.project_dir / "extract/tmdb/dev/sample_data/movies.jsonl.gz"
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return sorted({int(json.loads(line)["id"]) for line in fh if line.strip()})
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return []


__all__ = [
    "MovieLensReplay",
    "canonical_event",
    "movielens_events",
    "simulate_events",
    "sittings",
    "spread_until",
    "warehouse_movie_ids",
]
