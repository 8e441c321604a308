"""Serving fixtures shared by every serving test package (charts, site, API, Metabase,
notebook): one gold database built through the real CLI for the whole session
(building one takes about half a minute), and one dbt never built."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from moviepipe.config import Settings
from tests.serving.gold import empty_database, gold_database


@pytest.fixture(scope="session")
def gold_settings(stack: Settings) -> Iterator[Settings]:
    with gold_database(stack, "serving") as settings:
        yield settings


@pytest.fixture(scope="session")
def empty_settings(stack: Settings) -> Iterator[Settings]:
    with empty_database(stack, "serving_empty") as settings:
        yield settings
