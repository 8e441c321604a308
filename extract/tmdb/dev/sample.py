"""TMDB-shaped documents for the local server: the synthetic sample and its file forms.

A document is what ``/movie/{id}?append_to_response=credits,keywords,release_dates``
answers: the movie details plus ``credits``, ``keywords`` and ``release_dates``.

* :func:`generate_movies` builds a deterministic synthetic sample (seeded): franchises
  (``belongs_to_collection``), zero budgets and revenues, missing and empty fields;
  ``moviepipe extract tmdb-sample`` writes it to ``sample_data/movies.jsonl.gz`` (committed).
* :func:`load_docs` reads either form back: a directory of ``<id>.json`` files or a
  ``.jsonl`` / ``.jsonl.gz`` file.

Usage::

    from extract.tmdb.dev.sample import SAMPLE_PATH, load_docs
    docs = load_docs(SAMPLE_PATH)               # {movie_id: document}
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SAMPLE_PATH = Path(__file__).resolve().parent / "sample_data" / "movies.jsonl.gz"
SAMPLE_SEED = 20_260_101
SAMPLE_SIZE = 300
# Sample ids live at and above this, far outside TMDB's id space (about 1.6 million ids
# in 2026, growing by well under 100,000 a year), so landing the sample next to real TMDB
# rows never replaces one (docs/extract.md, "Sample ids"). Still a positive bigint, as the
# event contract's movie_id must be.
SAMPLE_ID_BASE = 900_000_000

# TMDB's movie genre ids.
GENRES = {
    28: "Action",
    12: "Adventure",
    16: "Animation",
    35: "Comedy",
    80: "Crime",
    99: "Documentary",
    18: "Drama",
    10751: "Family",
    14: "Fantasy",
    36: "History",
    27: "Horror",
    10402: "Music",
    9648: "Mystery",
    10749: "Romance",
    878: "Science Fiction",
    53: "Thriller",
    10752: "War",
    37: "Western",
}
_ADJECTIVES = [
    "Silent", "Crimson", "Hidden", "Last", "Broken", "Golden", "Midnight", "Frozen",
    "Electric", "Distant", "Savage", "Gentle", "Burning", "Hollow", "Infinite", "Lost",
    "Northern", "Quiet", "Restless", "Secret", "Shattered", "Wild", "Iron", "Paper",
]  # fmt: skip
_NOUNS = [
    "River", "Empire", "Garden", "Signal", "Harbor", "Orbit", "Kingdom", "Mirror", "Frontier",
    "Machine", "Orchard", "Tide", "Lantern", "Citadel", "Canyon", "Station", "Archive",
    "Meridian", "Voyage", "Cipher", "Ember", "Horizon", "Relic", "Echo",
]  # fmt: skip
_FIRST = [
    "Ava", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar",
    "Vera", "Wen", "Ximena", "Yusuf", "Zoe",
]  # fmt: skip
_LAST = [
    "Abbott", "Brennan", "Castillo", "Dubois", "Eriksen", "Fontaine", "Gallagher", "Haddad",
    "Ishikawa", "Jensen", "Kowalski", "Laurent", "Moreau", "Nakamura", "Okafor", "Petrov",
    "Quintero", "Rahman", "Sato", "Thorne", "Varga", "Whitaker", "Yilmaz", "Zhou",
]  # fmt: skip
_KEYWORDS = [
    "heist", "time travel", "based on novel", "revenge", "dystopia", "friendship", "space",
    "small town", "coming of age", "artificial intelligence", "survival", "sequel",
    "biography", "road trip", "detective", "family relationships", "war", "monster",
    "musician", "sports", "island", "conspiracy", "magic", "robbery",
]  # fmt: skip
_COUNTRIES = [
    ("US", "United States of America", "en", "English"),
    ("GB", "United Kingdom", "en", "English"), ("FR", "France", "fr", "Français"),
    ("DE", "Germany", "de", "Deutsch"), ("JP", "Japan", "ja", "日本語"),
    ("KR", "South Korea", "ko", "한국어/조선말"), ("IN", "India", "hi", "हिन्दी"),
    ("ES", "Spain", "es", "Español"),
]  # fmt: skip
_COMPANIES = [
    "Northwind Pictures", "Blue Harbor Films", "Meridian Studios", "Lantern House",
    "Orbit Entertainment", "Copperleaf Productions", "Silver Tide Media", "Red Canyon Films",
]  # fmt: skip
_CERTS = {"US": ["G", "PG", "PG-13", "R"], "GB": ["U", "PG", "12A", "15", "18"]}
_JOBS = [
    ("Directing", "Director"), ("Writing", "Screenplay"), ("Production", "Producer"),
    ("Sound", "Original Music Composer"), ("Camera", "Director of Photography"),
    ("Editing", "Editor"),
]  # fmt: skip


def _title(rng: random.Random) -> str:
    return f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"


def _person(rng: random.Random) -> tuple[int, str, int]:
    return (
        rng.randint(1_000, 3_000_000),
        f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        rng.randint(0, 2),
    )


def _release_dates(rng: random.Random, released: str | None, country: str) -> dict[str, Any]:
    if not released:
        return {"results": []}
    results = []
    for iso in dict.fromkeys([country, *rng.sample(["US", "GB", "FR", "DE"], rng.randint(0, 2))]):
        shift = 0 if iso == country else rng.randint(0, 60)
        day = date.fromisoformat(released) + timedelta(days=shift)
        results.append(
            {
                "iso_3166_1": iso,
                "release_dates": [
                    {
                        "certification": rng.choice(_CERTS.get(iso, [""])),
                        "descriptors": [],
                        "iso_639_1": "",
                        "note": "",
                        "release_date": f"{day.isoformat()}T00:00:00.000Z",
                        "type": 3 if shift or iso == country else 4,
                    }
                ],
            }
        )
    return {"results": results}


def _movie(rng: random.Random, movie_id: int, collection: dict[str, Any] | None) -> dict[str, Any]:
    title = collection["title"] if collection else _title(rng)
    iso, country_name, lang, lang_name = rng.choice(_COUNTRIES)
    year = rng.randint(1970, 2026)
    status = (
        "Released"
        if year < 2026 or rng.random() < 0.5
        else rng.choice(["Post Production", "In Production", "Planned"])
    )
    released: str | None = date(year, rng.randint(1, 12), rng.randint(1, 28)).isoformat()
    if rng.random() < 0.03:
        released = ""  # TMDB sends an empty string when the date is unknown
    budget = rng.choice([rng.randint(1, 300) * 1_000_000, rng.randint(50, 5_000) * 10_000])
    if rng.random() < 0.15:
        budget = 0  # unknown: TMDB sends 0
    revenue = (
        0
        if status != "Released" or rng.random() < 0.2
        else int((budget or 5_000_000) * rng.uniform(0.1, 6))
    )
    genre_ids = rng.sample(sorted(GENRES), rng.randint(1, 3))
    vote_count = int(rng.paretovariate(1.2) * 20) - 20
    cast = []
    for order in range(rng.randint(0 if rng.random() < 0.03 else 3, 12)):
        pid, name, gender = _person(rng)
        cast.append(
            {
                "adult": False,
                "gender": gender,
                "id": pid,
                "known_for_department": "Acting",
                "name": name,
                "original_name": name,
                "popularity": round(rng.uniform(0.5, 60), 3),
                "profile_path": None if rng.random() < 0.2 else f"/p{pid}.jpg",
                "cast_id": order + 1,
                "character": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                "credit_id": f"{movie_id:08x}{pid:08x}c{order:02d}",
                "order": order,
            }
        )
    crew = []
    for department, job in _JOBS[: rng.randint(1, len(_JOBS))]:
        pid, name, gender = _person(rng)
        crew.append(
            {
                "adult": False,
                "gender": gender,
                "id": pid,
                "known_for_department": department,
                "name": name,
                "original_name": name,
                "popularity": round(rng.uniform(0.5, 30), 3),
                "profile_path": None,
                "credit_id": f"{movie_id:08x}{pid:08x}{job[:3].lower()}",
                "department": department,
                "job": job,
            }
        )
    company = rng.choice(_COMPANIES)
    doc: dict[str, Any] = {
        "adult": False,
        "backdrop_path": f"/b{movie_id}.jpg",
        "belongs_to_collection": collection["ref"] if collection else None,
        "budget": budget,
        "genres": [{"id": g, "name": GENRES[g]} for g in genre_ids],
        "homepage": "" if rng.random() < 0.5 else f"https://example.org/movies/{movie_id}",
        "id": movie_id,
        "imdb_id": f"tt{rng.randint(100_000, 9_999_999):07d}",
        "origin_country": [iso],
        "original_language": lang,
        "original_title": title,
        "overview": f"A story about {rng.choice(_KEYWORDS)} and {rng.choice(_KEYWORDS)}.",
        "popularity": round(rng.lognormvariate(2, 1.2), 3),
        "poster_path": f"/m{movie_id}.jpg",
        "production_companies": [
            {
                "id": _COMPANIES.index(company) + 100,
                "logo_path": None,
                "name": company,
                "origin_country": iso,
            }
        ],
        "production_countries": [{"iso_3166_1": iso, "name": country_name}],
        "release_date": released,
        "revenue": revenue,
        "runtime": rng.randint(70, 190),
        "spoken_languages": [{"english_name": lang_name, "iso_639_1": lang, "name": lang_name}],
        "status": status,
        "tagline": rng.choice(["", "Some stories never end.", "Based on a true story."]),
        "title": title,
        "video": False,
        "vote_average": round(rng.uniform(3, 9), 3) if vote_count > 0 else 0.0,
        "vote_count": max(vote_count, 0),
        "credits": {"cast": cast, "crew": crew},
        "keywords": {
            "keywords": [
                {"id": _KEYWORDS.index(k) + 1000, "name": k}
                for k in rng.sample(_KEYWORDS, rng.randint(0, 6))
            ]
        },
        "release_dates": _release_dates(rng, released, iso),
    }
    # Missing fields, as older or sparse TMDB records have them.
    if rng.random() < 0.05:
        doc["runtime"] = None if rng.random() < 0.5 else 0
    if rng.random() < 0.04:
        doc["overview"] = ""
    if rng.random() < 0.03:
        del doc["imdb_id"]
    if rng.random() < 0.03:
        doc["genres"] = []
    return doc


def generate_movies(n: int = SAMPLE_SIZE, seed: int = SAMPLE_SEED) -> list[dict[str, Any]]:
    """``n`` TMDB-shaped movie documents; the same ``seed`` gives the same documents."""
    rng = random.Random(seed)
    # Offsets drawn as before, shifted into the reserved range: same documents, safe ids.
    ids = [SAMPLE_ID_BASE + i for i in rng.sample(range(10, 1_200_000), n)]
    docs: list[dict[str, Any]] = []
    i = 0
    collection_id = 9_000
    while i < n:
        collection = None
        size = 1
        if rng.random() < 0.15:  # a franchise of 2..5 films
            collection_id += 1
            base = _title(rng)
            size = min(rng.randint(2, 5), n - i)
            collection = {
                "ref": {
                    "id": collection_id,
                    "name": f"{base} Collection",
                    "poster_path": f"/c{collection_id}.jpg",
                    "backdrop_path": None,
                },
                "title": base,
            }
        for part in range(size):
            if collection:
                collection["title"] = collection["ref"]["name"].removesuffix(" Collection") + (
                    f" {part + 1}" if part else ""
                )
            docs.append(_movie(rng, ids[i], collection))
            i += 1
    return docs


def write_jsonl_gz(docs: Iterable[dict[str, Any]], path: Path) -> int:
    """Write documents as gzipped JSON Lines, byte-identical for identical input."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for doc in docs:
            gz.write((json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n").encode())
            count += 1
    return count


def load_docs(source: str | Path) -> dict[int, dict[str, Any]]:
    """``{movie_id: document}`` from a directory of ``<id>.json`` or a JSON Lines file."""
    source = Path(source)
    docs: dict[int, dict[str, Any]] = {}
    if source.is_dir():
        for path in source.glob("*.json"):
            doc = json.loads(path.read_text(encoding="utf-8"))
            docs[int(doc["id"])] = doc
        return docs
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                doc = json.loads(line)
                docs[int(doc["id"])] = doc
    return docs
