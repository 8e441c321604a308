"""The seven charts from a real gold build: files, sizes, rows, readability, empty data."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image
from pydantic import SecretStr

from moviepipe import db
from moviepipe.config import Settings
from serving.charts import CHART_NAMES, build_charts, data, render

MOVIEPIPE = str(Path(sys.executable).with_name("moviepipe"))
# Charts with more than one series, which therefore need a legend.
WITH_LEGEND = {"revenue_vs_budget", "popularity_vs_rating", "yearly_trends", "emotion_trends"}


def admin_count(settings: Settings, sql: str) -> int:
    with db.connect(settings, "admin") as conn:
        return conn.execute(sql).fetchone()[0]


def undrawn_tick_labels(fig: Figure) -> set[int]:
    """Tick labels outside their axis' view: matplotlib keeps them but never draws them."""
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if not low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    hidden.update({id(tick.label1), id(tick.label2)})
    return hidden


def visible_texts(fig: Figure) -> list[Text]:
    hidden = undrawn_tick_labels(fig)
    return [
        t
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and id(t) not in hidden
    ]


def overlapping_texts(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of visible texts whose drawn boxes intersect by more than a pixel."""
    fig.canvas.draw()  # lays out the figure and settles the ticks
    renderer = fig.canvas.get_renderer()
    boxes = [
        (t.get_text(), t.get_window_extent(renderer).expanded(1, 1)) for t in visible_texts(fig)
    ]
    clashes = []
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        if width > 1 and height > 1:
            clashes.append((a, b))
    return clashes


@pytest.fixture(scope="module")
def frames(gold_settings: Settings) -> dict[str, pd.DataFrame]:
    return data.fetch(gold_settings, data.queries())


def test_build_writes_seven_large_pngs(gold_settings: Settings, tmp_path: Path) -> None:
    charts = build_charts(gold_settings, tmp_path)
    assert [c.name for c in charts] == list(CHART_NAMES)
    assert len(charts) == 7
    for chart in charts:
        assert chart.path == tmp_path / f"{chart.name}.png"
        with Image.open(chart.path) as image:
            assert image.format == "PNG"
            width, height = image.size
        assert width >= 1200 and height >= 700, (chart.name, image.size)


def test_every_chart_plots_the_rows_gold_holds(
    gold_settings: Settings, frames: dict[str, pd.DataFrame]
) -> None:
    # the fixtures produce data for every chart, so none of them is an empty image
    assert all(len(frames[name]) > 0 for name in CHART_NAMES), {
        n: len(f) for n, f in frames.items()
    }
    known = admin_count(
        gold_settings,
        "select count(*) from gold.dim_movie"
        " where budget_musd is not null and revenue_musd is not null",
    )
    assert len(frames["revenue_vs_budget"]) == known
    events = admin_count(gold_settings, "select count(*) from gold.fact_user_event")
    assert frames["engagement_by_hour"]["events"].sum() == events
    assert render.engagement_grid(frames["engagement_by_hour"]).sum() == events
    scored = admin_count(gold_settings, "select count(*) from silver.comments_scored")
    trend = frames["emotion_trends"]
    day = trend[trend["granularity"] == "day"]
    assert day[["positive", "neutral", "negative"]].to_numpy().sum() == scored
    groups = admin_count(
        gold_settings, "select count(*) from gold.kpi_franchise_vs_standalone where movie_count > 0"
    )
    assert len(frames["franchise_vs_standalone"]) == groups


@pytest.mark.parametrize("name", CHART_NAMES)
def test_chart_has_title_labels_legend_and_no_overlapping_text(
    name: str, frames: dict[str, pd.DataFrame]
) -> None:
    fig = render.RENDERERS[name](frames[name])
    assert fig.get_suptitle()
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert any(ax.get_ylabel() for ax in axes), "a y axis label"
    if name != "franchise_vs_standalone":  # categorical x; each panel names its unit
        assert any(ax.get_xlabel() for ax in axes), "an x axis label"
    labels = " ".join(ax.get_xlabel() + ax.get_ylabel() for ax in axes)
    assert "(" in labels, f"axis labels carry units: {labels}"
    if name in WITH_LEGEND:
        assert any(ax.get_legend() for ax in axes), "a legend"
    assert overlapping_texts(fig) == []


def test_the_overlap_check_catches_overlapping_text() -> None:
    fig = render.new_figure("Title")
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "first label")
    ax.text(0.5, 0.5, "second label")
    assert overlapping_texts(fig) == [("first label", "second label")]


@pytest.mark.parametrize("name", CHART_NAMES)
def test_empty_data_says_so_in_the_image(name: str) -> None:
    columns = data.queries()[name].columns
    fig = render.RENDERERS[name](pd.DataFrame(columns=list(columns)))
    texts = " ".join(t.get_text() for t in visible_texts(fig))
    assert "No data yet" in texts
    assert data.queries()[name].source in texts
    assert overlapping_texts(fig) == []


def test_a_never_built_gold_gives_seven_no_data_charts(
    empty_settings: Settings, tmp_path: Path
) -> None:
    charts = build_charts(empty_settings, tmp_path)
    assert len(charts) == 7
    assert all(c.rows == 0 and c.path.stat().st_size > 0 for c in charts)


def test_charts_connect_as_the_reader_role(gold_settings: Settings) -> None:
    wrong = gold_settings.model_copy(
        update={"moviepipe_reader_password": SecretStr("not-the-password")}
    )
    with pytest.raises(psycopg.OperationalError, match="moviepipe_reader"):
        data.fetch(wrong, data.queries())
    for query in data.queries().values():
        assert query.source.startswith("gold.")


def test_sentiment_switches_to_weeks_after_many_days() -> None:
    days = pd.date_range("2026-01-01", periods=render.MAX_DAILY_PERIODS + 1, freq="D")
    rows = [("day", d.date(), 1, 1, 2) for d in days] + [("week", days[0].date(), 3, 1, 0)]
    frame = pd.DataFrame(rows, columns=list(data.queries()["emotion_trends"].columns))
    granularity, shares = render.sentiment_periods(frame)
    assert granularity == "week"
    assert shares.loc[0, "positive"] == pytest.approx(0.75)
    assert shares.loc[0, "comments"] == 4
    granularity, shares = render.sentiment_periods(frame.iloc[:3])
    assert granularity == "day" and len(shares) == 3
    assert shares.loc[0, "negative"] == pytest.approx(0.5)


def test_unknown_chart_name_is_a_clear_error(gold_settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="unknown chart"):
        build_charts(gold_settings, tmp_path, ["pie_of_everything"])


def test_cli_writes_the_charts_as_json(gold_settings: Settings, tmp_path: Path) -> None:
    env = {**os.environ, "PGDATABASE": gold_settings.pgdatabase}
    args = [MOVIEPIPE, "charts", "--out", str(tmp_path), "--json", "-n", "yearly_trends"]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    (chart,) = json.loads(proc.stdout)
    assert chart["name"] == "yearly_trends" and chart["rows"] > 0
    assert Path(chart["path"]).is_file()
    bad = subprocess.run([*args[:-1], "nope"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "unknown chart" in bad.stderr
