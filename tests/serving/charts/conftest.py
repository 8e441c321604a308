"""Chart fixtures: one gold database built from the warehouse fixtures, one never built."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from moviepipe.config import Settings
from tests.serving.gold import empty_database, gold_database


@pytest.fixture(scope="session")
def gold_settings(stack: Settings) -> Iterator[Settings]:
    with gold_database(stack, "charts") as settings:
        yield settings


@pytest.fixture(scope="session")
def empty_settings(stack: Settings) -> Iterator[Settings]:
    with empty_database(stack, "charts_empty") as settings:
        yield settings
