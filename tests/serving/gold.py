"""Databases with a built gold layer for the serving tests (charts, docs site, notebook).

``gold_database`` lands the warehouse tests' raw fixtures, scores the comments
(``moviepipe enrich``) and builds every model (``moviepipe transform``), all
through the real CLI; ``empty_database`` is a bootstrapped database that dbt
never built, so every gold relation is missing.

Usage::

    with gold_database(stack, "charts") as settings:
        build_charts(settings, tmp_path)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moviepipe import db
from moviepipe.config import Settings
from tests.warehouse import fixtures
from tests.warehouse.conftest import fresh_database, moviepipe, transform


@contextmanager
def gold_database(stack: Settings, label: str) -> Iterator[Settings]:
    with fresh_database(stack, label) as settings:
        with db.connect(settings, "loader") as conn:
            fixtures.land_run1(conn)
        proc = moviepipe(settings, "enrich")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        transform(settings)
        yield settings


@contextmanager
def empty_database(stack: Settings, label: str) -> Iterator[Settings]:
    with fresh_database(stack, label) as settings:
        yield settings
