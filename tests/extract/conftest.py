"""Fixtures for the extractor tests: a database of their own, emptied before each test.

The session database of ``pg_settings`` is shared with other test packages; the extractors'
tests truncate tables and move bookmarks, so they get a separate bootstrapped database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from moviepipe import db
from moviepipe.config import Settings

API_KEY = "test-key-123"
TABLES = (
    "raw.tmdb_movies",
    "raw.mongo_user_logs",
    "raw.mongo_comments",
    "ops.run_log",
    "ops.bookmarks",
    "ops.extract_errors",
)


@pytest.fixture(scope="session")
def extract_db(pg_settings: Settings) -> Iterator[Settings]:
    name = f"mp_extract_{uuid.uuid4().hex[:8]}"
    settings = pg_settings.model_copy(update={"pgdatabase": name})
    db.bootstrap(settings, name)
    yield settings
    db.drop_database(pg_settings, name)


@pytest.fixture
def ex_settings(extract_db: Settings) -> Settings:
    """Settings on the extractors' database, with every table they write emptied."""
    with db.connect(extract_db, "admin", autocommit=True) as conn:
        conn.execute(f"truncate {', '.join(TABLES)}")
    return extract_db
