"""Build ``.local/docs/index.html`` from what the other builders left in ``.local/docs/``.

The index links the dbt docs (``dbt/index.html``, generated static so that it reads
its manifest without XHR from ``file://``), the GX data docs (``gx/index.html``),
every chart (``charts/*.png`` as thumbnails), the API's OpenAPI page
(``api/index.html``, rendered here from the app's schema) and the last run's
summary (gate results, rows per layer, last publish). Everything is a relative
link inside ``.local/docs``: the site opens from disk and from ``moviepipe serve``
alike, and nothing loads from another host.

Usage::

    from serving.site.build import build_site
    build_site(settings, openapi=app.openapi())
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from moviepipe.config import Settings

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Page:
    """A linked page: its title, one line on what it is for, and whether it exists."""

    title: str
    href: str
    purpose: str
    built: bool
    hint: str = ""


@dataclass
class RunSummary:
    """The last pipeline run as ops.* recorded it (empty lists when nothing ran)."""

    pipeline_run_id: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    gates: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[str, int | None]] = field(default_factory=list)
    publish: dict[str, Any] | None = None


def pages(docs_dir: Path) -> list[Page]:
    """The site's pages, each marked built or not (an unbuilt page says how to build it)."""
    return [
        Page(
            "dbt docs",
            "dbt/index.html",
            "Every model, source and column with its description, tests and the lineage graph.",
            (docs_dir / "dbt" / "index.html").exists(),
            "moviepipe docs",
        ),
        Page(
            "Great Expectations data docs",
            "gx/index.html",
            "The quality gates' suites and the result of every validation run.",
            (docs_dir / "gx" / "index.html").exists(),
            "moviepipe quality",
        ),
        Page(
            "REST API",
            "api/index.html",
            "The read-only API's endpoints and parameters (live Swagger UI: moviepipe serve).",
            (docs_dir / "api" / "index.html").exists(),
            "moviepipe docs",
        ),
    ]


def charts(docs_dir: Path) -> list[str]:
    """Chart file names relative to ``docs_dir``, sorted."""
    return sorted(f"charts/{p.name}" for p in (docs_dir / "charts").glob("*.png"))


def render_index(
    site_pages: list[Page], chart_paths: list[str], summary: RunSummary, built_at: datetime
) -> str:
    """The index page's HTML (pure: no I/O beyond the packaged template)."""
    return (
        _env()
        .get_template("index.html.j2")
        .render(pages=site_pages, charts=chart_paths, summary=summary, built_at=built_at)
    )


def render_openapi(spec: dict[str, Any]) -> str:
    """A static page of the API's endpoints, parameters and responses from its OpenAPI schema."""
    operations = [
        {"method": method.upper(), "path": path, **op}
        for path, item in sorted(spec.get("paths", {}).items())
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    return _env().get_template("api.html.j2").render(spec=spec, operations=operations)


def build_site(
    settings: Settings,
    docs_dir: Path | None = None,
    *,
    openapi: dict[str, Any] | None = None,
    summary: RunSummary | None = None,
) -> Path:
    """Write ``index.html`` (and ``api/`` from ``openapi``) into ``docs_dir``; return the index."""
    docs_dir = docs_dir or settings.home / "docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    if openapi is not None:
        api_dir = docs_dir / "api"
        api_dir.mkdir(exist_ok=True)
        (api_dir / "openapi.json").write_text(json.dumps(openapi, indent=2))
        (api_dir / "index.html").write_text(render_openapi(openapi))
    if summary is None:
        from serving.site.summary import last_run

        summary = last_run(settings)
    index = docs_dir / "index.html"
    html = render_index(pages(docs_dir), charts(docs_dir), summary, datetime.now(UTC))
    index.write_text(html)
    return index


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
