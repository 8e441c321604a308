"""``moviepipe quality``: run the raw, silver and gold checkpoints; on a pass, publish gold.

The committed context (``great_expectations/``) is copied to a working directory
per database (``MOVIEPIPE_HOME/quality/<db>/``), so validation results and data
docs never land in the repository; GX connects as the transformer role through
``${MOVIEPIPE_GX_CONNECTION}``, set here from the settings. Parameters the suites
reference are computed first: tunable thresholds, silver's row counts and the
published gold's (volume checks). Every suite's result becomes a row of
``ops.quality_results``; the data docs are copied to ``MOVIEPIPE_HOME/docs/gx``
with their CSS/JS vendored (:mod:`quality.docs_assets`). Only when every
checkpoint passes is ``gold_build`` published (:func:`quality.publish.publish`);
otherwise nothing in ``gold`` is touched.

Usage::

    outcome = run_gates(settings, run_id="q1", echo=print)
    outcome.success, outcome.failures, outcome.docs_index
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg import sql

from moviepipe import db
from moviepipe.config import Settings
from moviepipe.rules import load_rules
from quality import publish as pub
from quality.context import CONNECTION_VAR, CONTEXT_DIR
from quality.suites import GOLD_TABLES, LAYERS


@dataclass
class SuiteOutcome:
    layer: str
    suite: str
    success: bool
    failed: list[dict[str, Any]]
    statistics: dict[str, Any]
    page: Path | None


@dataclass
class GateOutcome:
    run_id: str
    suites: list[SuiteOutcome] = field(default_factory=list)
    docs_index: Path | None = None
    published: pub.PublishResult | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return bool(self.suites) and all(s.success for s in self.suites)

    @property
    def failures(self) -> list[SuiteOutcome]:
        return [s for s in self.suites if not s.success]

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.seconds[phase] = time.monotonic() - start


def connection_url(settings: Settings) -> str:
    from sqlalchemy.engine import URL

    return URL.create(
        "postgresql+psycopg2",
        username=settings.role_user("transformer"),
        password=settings.role_password("transformer"),
        host=settings.pghost,
        port=settings.pgport,
        database=settings.pgdatabase,
    ).render_as_string(hide_password=False)


def min_rows(published: int | None, max_loss_share: float) -> int:
    """The fewest rows a candidate may keep of ``published`` (pure)."""
    return 0 if not published else math.ceil(published * (1 - max_loss_share))


def _count(conn, schema: str, table: str) -> int | None:
    if conn.execute("select to_regclass(%s)", (f"{schema}.{table}",)).fetchone()[0] is None:
        return None
    query = sql.SQL("select count(*) from {}.{}").format(
        sql.Identifier(schema), sql.Identifier(table)
    )
    return conn.execute(query).fetchone()[0]


def parameters(settings: Settings) -> dict[str, Any]:
    """The ``$PARAMETER`` values of the suites, from the tunables and the database."""
    q = settings.tunables.quality
    start = datetime.fromisoformat(q.min_event_date).replace(tzinfo=UTC)
    params: dict[str, Any] = {
        "min_event_epoch": start.timestamp(),
        "max_dead_letter_share": q.max_dead_letter_share,
    }
    with db.connect(settings, "admin", autocommit=True) as conn:
        for table in ("user_events", "movies_curated"):
            params[f"silver_{table}_rows"] = _count(conn, "silver", table) or 0
        franchises = 0
        if _count(conn, "silver", "movies_curated") is not None:
            franchises = conn.execute(
                "select count(distinct collection_id) from silver.movies_curated where is_franchise"
            ).fetchone()[0]
        params["kpi_top_franchises_rows"] = min(load_rules().movies.kpi_top_n, franchises)
        for table in GOLD_TABLES:
            params[f"min_rows_{table}"] = min_rows(
                _count(conn, pub.PUBLISHED, table), q.max_row_loss_share
            )
    return params


def _error(info: Any) -> str | None:
    """The first exception GX met while computing an expectation's metrics, if any."""
    found = [info] if isinstance(info, dict) and "raised_exception" in info else []
    if isinstance(info, dict):
        found += [v for v in info.values() if isinstance(v, dict)]
    for entry in found:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message", "")).splitlines()[0][:500]
    return None


def _failed(result) -> list[dict[str, Any]]:
    out = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        res = r.result or {}
        out.append(
            {
                "expectation": cfg.type,
                "description": cfg.description,
                "kwargs": {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id",)},
                "observed_value": res.get("observed_value"),
                "unexpected_count": res.get("unexpected_count"),
                "unexpected_sample": (res.get("partial_unexpected_list") or [])[:5],
                "error": _error(r.exception_info),
            }
        )  # fmt: skip
    return out


def _workdir(settings: Settings) -> Path:
    work = settings.home / "quality" / settings.pgdatabase / "great_expectations"
    for item in CONTEXT_DIR.iterdir():  # the committed context, refreshed every run
        if item.name == "uncommitted":
            continue
        dest = work / item.name
        if item.is_dir():
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(item, dest)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, dest)
    return work


def _page(context, key, site: Path, docs: Path) -> Path | None:
    for entry in context.get_docs_sites_urls(resource_identifier=key):
        url = entry.get("site_url") or ""
        local = Path(url.removeprefix("file://"))
        try:
            return docs / local.relative_to(site)
        except ValueError:
            continue
    return None


def record(settings: Settings, outcome: GateOutcome) -> None:
    with db.connect(settings, "admin") as conn, conn.transaction():
        for s in outcome.suites:
            conn.execute(
                "insert into ops.quality_results (run_id, checkpoint, layer, success, statistics,"
                " suite, failed_expectations, data_docs) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    outcome.run_id, s.layer, s.layer, s.success,
                    json.dumps(s.statistics, default=str), s.suite,
                    json.dumps(s.failed, default=str), str(s.page) if s.page else None,
                ),
            )  # fmt: skip


def run_gates(
    settings: Settings,
    *,
    run_id: str,
    docs_dir: Path | None = None,
    publish: bool = True,
    echo: Callable[[str], None] = lambda _m: None,
) -> GateOutcome:
    """Every checkpoint, results recorded, data docs built; publish when all pass."""
    outcome = GateOutcome(run_id)
    # GX logs each registration at INFO; the gate reports its own results.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    start = time.monotonic()
    with outcome.timed("import"):
        from great_expectations.core.run_identifier import RunIdentifier

        import great_expectations as gx
    with outcome.timed("parameters"):
        params = parameters(settings)
    with outcome.timed("context"):
        work = _workdir(settings)
        os.environ[CONNECTION_VAR] = connection_url(settings)
        context = gx.get_context(mode="file", context_root_dir=work)
    site = work / "uncommitted" / "data_docs" / "local_site"
    docs = docs_dir or settings.home / settings.tunables.quality.docs_dir
    keys = []
    for layer in LAYERS:
        with outcome.timed(layer):
            result = context.checkpoints.get(layer).run(
                expectation_parameters=params, run_id=RunIdentifier(run_name=run_id)
            )
        for key, vr in result.run_results.items():
            keys.append(key)
            outcome.suites.append(
                SuiteOutcome(layer, vr.suite_name, bool(vr.success), _failed(vr),
                             dict(vr.statistics), None)
            )  # fmt: skip
        echo(f"{layer}: {'passed' if result.success else 'FAILED'} ({outcome.seconds[layer]:.1f}s)")
    from quality.docs_assets import make_offline

    with outcome.timed("docs"):
        # One build for the whole run: the pages of this run's results and the index
        # (GX's per-validation action re-rendered the index 29 times).
        context.build_data_docs(resource_identifiers=keys)
        shutil.rmtree(docs, ignore_errors=True)
        shutil.copytree(site, docs)
        make_offline(docs, settings.home / "cache" / "npm")
        outcome.docs_index = docs / "index.html"
        for s, key in zip(outcome.suites, keys, strict=True):
            s.page = _page(context, key, site, docs)
    with outcome.timed("record"):
        record(settings, outcome)
    if outcome.success and publish:
        with outcome.timed("publish"):
            outcome.published = pub.publish(settings, run_id=run_id, echo=echo)
    outcome.seconds["total"] = time.monotonic() - start
    echo("phases: " + ", ".join(f"{k} {v:.2f}s" for k, v in outcome.seconds.items()))
    return outcome
