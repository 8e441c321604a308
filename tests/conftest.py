"""Shared fixtures: the real local stack, started once per test session.

Every integration test gets isolated resources on the shared servers:

* ``pg_settings``: settings pointing at a fresh, bootstrapped database
  (``mp_test_<random>``), dropped at the end of the session;
* ``topic_settings``: settings whose topic names carry a unique prefix, with
  those topics created;
* ``mongo_db_name``: a unique MongoDB database name, dropped afterwards;
* ``gold_settings``: one database with a built and published gold for every test that
  only reads gold (charts, docs site, API, Metabase questions, notebook): building one
  through the real CLI takes about half a minute; ``empty_settings``: one dbt never built.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest

from moviepipe import db, services
from moviepipe.config import Settings, load_settings
from moviepipe.services import kafka, mongo


@pytest.fixture(scope="session")
def stack() -> Settings:
    """Bring the local services up (idempotent) and return settings with their passwords."""
    return services.up(load_settings())


@contextlib.contextmanager
def fresh_database(stack: Settings, prefix: str) -> Iterator[Settings]:
    """``stack`` on a new bootstrapped database ``<prefix>_<hex>``, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    settings = stack.model_copy(update={"pgdatabase": name})
    db.bootstrap(settings, name)
    try:
        yield settings
    finally:
        db.drop_database(stack, name)


@pytest.fixture(scope="session")
def pg_settings(stack: Settings) -> Iterator[Settings]:
    with fresh_database(stack, "mp_test") as settings:
        yield settings


@pytest.fixture(scope="session")
def topic_settings(stack: Settings) -> Settings:
    prefix = f"test_{uuid.uuid4().hex[:8]}_"
    settings = stack.model_copy(update={"moviepipe_topic_prefix": prefix})
    kafka.ensure_topics(settings)
    return settings


@pytest.fixture
def mongo_db_name(stack: Settings) -> Iterator[str]:
    name = f"mp_test_{uuid.uuid4().hex[:8]}"
    yield name
    with mongo.client(stack) as mc:
        mc.drop_database(name)


@pytest.fixture(scope="session")
def gold_settings(stack: Settings) -> Iterator[Settings]:
    from tests.serving.gold import gold_database

    with gold_database(stack, "serving") as settings:
        yield settings


@pytest.fixture(scope="session")
def empty_settings(stack: Settings) -> Iterator[Settings]:
    from tests.serving.gold import empty_database

    with empty_database(stack, "serving_empty") as settings:
        yield settings
