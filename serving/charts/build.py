"""Draw every chart: fetch gold (:mod:`serving.charts.data`), render
(:mod:`serving.charts.render`), write ``<out>/<name>.png``.

Usage::

    charts = build_charts(settings)                      # into .local/docs/charts/
    charts = build_charts(settings, out_dir, names=["yearly_trends"])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from moviepipe.config import Settings
from moviepipe.rules import load_rules
from serving.charts import data, render

CHART_NAMES: tuple[str, ...] = tuple(render.RENDERERS)


@dataclass(frozen=True)
class Chart:
    """One chart written: its name, file, the rows it plots and what they came from."""

    name: str
    path: Path
    rows: int
    source: str

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def default_out_dir(settings: Settings) -> Path:
    return settings.home / "docs" / "charts"


def render_options(name: str) -> dict[str, Any]:
    """The rules a chart names in its subtitle (the same thresholds its query applies)."""
    movies = load_rules().movies
    return {
        "roi_by_genre_bar": {"min_budget_musd": movies.roi_min_budget_musd},
        "popularity_vs_rating": {"min_votes": movies.rating_min_votes},
    }.get(name, {})


def build_charts(
    settings: Settings, out_dir: Path | None = None, names: Iterable[str] | None = None
) -> list[Chart]:
    """Write the charts in ``names`` (default all seven); unknown names raise ``KeyError``."""
    out_dir = out_dir or default_out_dir(settings)
    wanted = list(names or CHART_NAMES)
    unknown = sorted(set(wanted) - set(CHART_NAMES))
    if unknown:
        raise KeyError(f"unknown chart(s): {', '.join(unknown)}; known: {', '.join(CHART_NAMES)}")
    queries = data.queries()
    frames = data.fetch(settings, {name: queries[name] for name in wanted})
    charts = []
    for name in wanted:
        fig = render.RENDERERS[name](frames[name], **render_options(name))
        path = render.save(fig, out_dir / f"{name}.png")
        charts.append(Chart(name, path, len(frames[name]), queries[name].source))
    return charts
