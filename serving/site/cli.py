"""``moviepipe docs``: build the whole docs site into ``.local/docs/`` from the live database.

Builds the dbt docs (static, so they open from disk), the charts, the API's page
and ``index.html``; the GX data docs are built by ``moviepipe quality`` and linked
when present::

    moviepipe docs                  # .local/docs/index.html
    moviepipe docs --no-charts --json
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click

from moviepipe.cli_support import emit, fail, json_option
from moviepipe.config import Settings


@click.command("docs")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default .local/docs.")
@click.option("--charts/--no-charts", default=True, show_default=True, help="Rebuild the charts.")
@json_option
@click.pass_obj
def docs(settings: Settings, out: Path | None, charts: bool, as_json: bool) -> None:
    """Build the docs site: dbt docs, charts, API page and an index, all offline."""
    from serving.site import build_site

    out = out or settings.home / "docs"
    built: dict[str, Any] = {"dbt_docs": str(build_dbt_docs(settings, out / "dbt"))}
    if charts:
        from serving.charts import build_charts

        built["charts"] = [c.as_json()["path"] for c in build_charts(settings, out / "charts")]
    built["index"] = str(build_site(settings, out, openapi=api_schema()))
    emit(built, as_json)


def build_dbt_docs(settings: Settings, out: Path) -> Path:
    """``dbt docs generate --static``; its single-file page becomes ``index.html``, since the
    default page fetches manifest.json with XHR, which browsers refuse from ``file://``."""
    from moviepipe.dbt_runner import run_dbt

    proc = run_dbt(settings, ["docs", "generate", "--static"], target_path=out, capture=True)
    if proc.returncode != 0:
        fail(f"dbt docs generate failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    index = out / "index.html"
    shutil.copyfile(out / "static_index.html", index)
    return index


def api_schema() -> dict[str, Any]:
    """The REST API's OpenAPI schema (no server or database needed)."""
    from serving.api.app import create_app

    return create_app(None).openapi()
