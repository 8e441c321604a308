"""The Kaggle TMDB 5000 CSVs as TMDB-shaped documents, for the benchmarks (and heavier tests).

``../shared/data/tmdb_5000`` (``MOVIEPIPE_DATA_DIR``) holds ``tmdb_5000_movies.csv.gz`` and
``tmdb_5000_credits.csv.gz``; they are read by path, never copied. The documents are what
the local TMDB server (:mod:`extract.tmdb.dev.fakeserver`) serves.

Usage::

    from bench.kaggle import kaggle_docs, kaggle_to_docs
    docs = kaggle_docs("../shared/data/tmdb_5000")            # {movie_id: document}
    ids = kaggle_to_docs("../shared/data/tmdb_5000", "/tmp/tmdb_docs")
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any


def _json_list(text: str | None) -> list[Any]:
    return json.loads(text) if text else []


def _number(text: str | None, kind: type = float) -> Any:
    if text is None or text.strip() == "":
        return None
    return kind(float(text))


def kaggle_row_to_doc(movie: dict[str, str], credits: dict[str, str] | None) -> dict[str, Any]:
    """One Kaggle movies row (plus its credits row) as a TMDB details+appends document."""
    movie_id = int(movie["id"])
    released = movie.get("release_date") or ""
    countries = _json_list(movie.get("production_countries"))
    first_country = countries[0]["iso_3166_1"] if countries else "US"
    return {
        "adult": False,
        # The Kaggle export has no collection column: the franchise field is absent.
        "belongs_to_collection": None,
        "budget": _number(movie.get("budget"), int) or 0,
        "genres": _json_list(movie.get("genres")),
        "homepage": movie.get("homepage") or "",
        "id": movie_id,
        "original_language": movie.get("original_language"),
        "original_title": movie.get("original_title"),
        "overview": movie.get("overview") or "",
        "popularity": _number(movie.get("popularity")),
        "production_companies": _json_list(movie.get("production_companies")),
        "production_countries": countries,
        "release_date": released,
        "revenue": _number(movie.get("revenue"), int) or 0,
        "runtime": _number(movie.get("runtime"), int),
        "spoken_languages": _json_list(movie.get("spoken_languages")),
        "status": movie.get("status"),
        "tagline": movie.get("tagline") or "",
        "title": movie.get("title"),
        "video": False,
        "vote_average": _number(movie.get("vote_average")),
        "vote_count": _number(movie.get("vote_count"), int),
        "credits": {
            "cast": _json_list((credits or {}).get("cast")),
            "crew": _json_list((credits or {}).get("crew")),
        },
        "keywords": {"keywords": _json_list(movie.get("keywords"))},
        "release_dates": {
            "results": [
                {
                    "iso_3166_1": first_country,
                    "release_dates": [
                        {
                            "certification": "",
                            "descriptors": [],
                            "iso_639_1": "",
                            "note": "",
                            "release_date": f"{released}T00:00:00.000Z",
                            "type": 3,
                        }
                    ],
                }
            ]
            if released
            else []
        },
    }


def _read_csv_gz(path: Path) -> list[dict[str, str]]:
    # newline="" lets the csv module handle the quoted newlines inside the JSON columns.
    with gzip.open(path, "rb") as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        return list(csv.DictReader(text))


def kaggle_docs(data_dir: str | Path) -> dict[int, dict[str, Any]]:
    """``{movie_id: document}`` for every Kaggle TMDB 5000 movie, in the CSV's order.

    ``data_dir`` holds ``tmdb_5000_movies.csv.gz`` and ``tmdb_5000_credits.csv.gz``.
    """
    data_dir = Path(data_dir)
    movies = _read_csv_gz(data_dir / "tmdb_5000_movies.csv.gz")
    credits = {row["movie_id"]: row for row in _read_csv_gz(data_dir / "tmdb_5000_credits.csv.gz")}
    docs = (kaggle_row_to_doc(row, credits.get(row["id"])) for row in movies)
    return {doc["id"]: doc for doc in docs}


def kaggle_to_docs(data_dir: str | Path, out_dir: str | Path) -> list[int]:
    """Write ``out_dir/<id>.json`` for every Kaggle TMDB 5000 movie; returns the ids, sorted."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = kaggle_docs(data_dir)
    for movie_id, doc in docs.items():
        (out_dir / f"{movie_id}.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    return sorted(docs)
