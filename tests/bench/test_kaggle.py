"""The Kaggle TMDB 5000 converter the benchmarks serve: CSV quirks become TMDB documents."""

from __future__ import annotations

import csv
import gzip
import io

from bench.kaggle import kaggle_to_docs
from extract.tmdb.dev.sample import load_docs


def _write_csv_gz(path, header, rows):
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        fh.write(buf.getvalue())


def test_kaggle_to_docs_parses_quoted_json_with_newlines(tmp_path):
    movie_cols = [
        "budget", "genres", "homepage", "id", "keywords", "original_language", "original_title",
        "overview", "popularity", "production_companies", "production_countries",
        "release_date", "revenue", "runtime", "spoken_languages", "status", "tagline", "title",
        "vote_average", "vote_count",
    ]  # fmt: skip
    movie = [
        "0", '[{"id": 18, "name": "Drama"}]', "", "42", '[{"id": 1, "name": "a, b"}]', "en",
        "Orig", 'Line one,\r\n"quoted" line two', "1.5", "[]",
        '[{"iso_3166_1": "GB", "name": "United Kingdom"}]', "", "0", "", "[]", "Released", "",
        "Title", "6.1", "12",
    ]  # fmt: skip
    _write_csv_gz(tmp_path / "tmdb_5000_movies.csv.gz", movie_cols, [movie])
    crew = '[{"job": "Director", "name": "D, Jr.", "id": 7}]'
    _write_csv_gz(
        tmp_path / "tmdb_5000_credits.csv.gz",
        ["movie_id", "title", "cast", "crew"],
        [["42", "Title", '[{"name": "A", "order": 0}]', crew]],
    )
    ids = kaggle_to_docs(tmp_path, tmp_path / "docs")
    assert ids == [42]
    doc = load_docs(tmp_path / "docs")[42]
    assert doc["overview"] == 'Line one,\r\n"quoted" line two'
    assert doc["keywords"]["keywords"] == [{"id": 1, "name": "a, b"}]
    assert doc["credits"]["crew"][0]["name"] == "D, Jr."
    assert doc["budget"] == 0 and doc["runtime"] is None
    assert doc["release_date"] == "" and doc["release_dates"]["results"] == []
    assert doc["belongs_to_collection"] is None
