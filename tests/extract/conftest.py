"""Fixtures for the extractor tests: a database of their own, emptied before each test.

The session database of ``pg_settings`` is shared with other test packages; the extractors'
tests truncate tables and move bookmarks, so they get a separate bootstrapped database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from moviepipe import db
from moviepipe.config import Settings
from tests.conftest import fresh_database

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
    with fresh_database(pg_settings, "mp_extract") as settings:
        yield settings


@pytest.fixture
def ex_settings(extract_db: Settings) -> Settings:
    """Settings on the extractors' database, with every table they write emptied."""
    with db.connect(extract_db, "admin", autocommit=True) as conn:
        conn.execute(f"truncate {', '.join(TABLES)}")
    return extract_db
