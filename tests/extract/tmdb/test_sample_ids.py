"""Sample ids never shadow real TMDB movies: the sample lives in a reserved id range."""

from __future__ import annotations

import pytest

from bench.kaggle import kaggle_docs
from extract.tmdb.client import TmdbClient
from extract.tmdb.dev.fakeserver import running_server
from extract.tmdb.dev.sample import SAMPLE_ID_BASE, SAMPLE_PATH, generate_movies, load_docs
from extract.tmdb.load import run_tmdb_extract
from moviepipe import db
from moviepipe.config import load_settings
from tests.extract.conftest import API_KEY

REAL_IDS = [62, 550, 603, 1891]  # 2001: A Space Odyssey (62 was once a sample id), ...


@pytest.fixture(scope="module")
def real_docs():
    docs = kaggle_docs(load_settings().moviepipe_data_dir / "tmdb_5000")
    return {i: docs[i] for i in REAL_IDS}


def test_every_sample_id_is_in_the_reserved_range():
    committed = load_docs(SAMPLE_PATH)
    assert committed and min(committed) >= SAMPLE_ID_BASE
    assert min(d["id"] for d in generate_movies(2_000, seed=5)) >= SAMPLE_ID_BASE
    assert all(i >= SAMPLE_ID_BASE for i in load_settings().tunables.tmdb.default_movie_ids)


def test_real_tmdb_ids_are_below_the_reserved_range():
    real = kaggle_docs(load_settings().moviepipe_data_dir / "tmdb_5000")
    assert len(real) > 4_000 and max(real) < SAMPLE_ID_BASE
    assert not set(real) & set(load_docs(SAMPLE_PATH))


def _land(settings, mongo_db, docs, ids):
    with running_server(docs, api_key=API_KEY) as url:
        client = TmdbClient(url, api_key=API_KEY, rate_limit_per_s=400, max_retries=1)
        return run_tmdb_extract(
            settings, movie_ids=ids, mongo_db=mongo_db, client=client, progress=False
        )


def _latest_titles(settings):
    with db.connect(settings, "admin") as conn:
        rows = conn.execute(
            "select distinct on (movie_id) movie_id, payload ->> 'title' from raw.tmdb_movies"
            " order by movie_id, ingested_at desc"
        ).fetchall()
    return dict(rows)


@pytest.mark.integration
@pytest.mark.parametrize("real_first", [True, False])
def test_landing_the_sample_replaces_no_real_movie(
    ex_settings, mongo_db_name, real_docs, real_first
):
    sample = load_docs(SAMPLE_PATH)
    steps = [(real_docs, REAL_IDS), (sample, sorted(sample))]
    for docs, ids in steps if real_first else steps[::-1]:
        summary = _land(ex_settings, mongo_db_name, docs, ids)
        assert summary.status == "succeeded" and summary.new == len(ids)
    titles = _latest_titles(ex_settings)
    assert titles[62] == "2001: A Space Odyssey"
    assert {i: titles[i] for i in REAL_IDS} == {i: d["title"] for i, d in real_docs.items()}
    assert len(titles) == len(REAL_IDS) + len(sample)
