"""The seven charts as pure functions: a pandas frame in, a matplotlib Figure out.

No database and no files here (:mod:`serving.charts.build` does the I/O), and no
pyplot: each Figure is self-contained, so charts can be drawn in any thread or
test. Every figure is at least 1200x700 px once saved at :data:`DPI`, has a
title and axis labels with units, a legend where there are several series, and
says so in the image when its frame is empty.

Usage::

    from serving.charts.render import RENDERERS, save
    fig = RENDERERS["yearly_trends"](frame)
    save(fig, Path("yearly_trends.png"))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

FIGSIZE = (12.8, 7.2)  # inches; 1600x900 px at DPI
DPI = 125
FRANCHISE_COLOURS = {True: "#d95f02", False: "#1b9e77"}
SENTIMENT_COLOURS = {"positive": "#1a9850", "neutral": "#bdbdbd", "negative": "#d73027"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# More days than this in a sentiment series and the chart shows ISO weeks instead.
MAX_DAILY_PERIODS = 45


def new_figure(title: str, subtitle: str | None = None) -> Figure:
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(title, fontsize=17, fontweight="bold")
    if subtitle:
        # A figure-level x label, so the constrained layout keeps it clear of the axes' labels.
        fig.supxlabel(subtitle, fontsize=10, color="#555555")
    return fig


def empty_figure(title: str, source: str) -> Figure:
    """A chart whose data is empty: the title, and what is missing, in the image."""
    fig = new_figure(title)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        f"No data yet\n{source} has no rows to plot",
        ha="center",
        va="center",
        fontsize=22,
        color="#777777",
        transform=ax.transAxes,
    )
    return fig


def save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, facecolor="white")
    return path


def _musd(ax: Axes, axis: str = "both") -> None:
    fmt = FuncFormatter(lambda v, _pos: f"{v:,.0f}")
    if axis in ("x", "both"):
        ax.xaxis.set_major_formatter(fmt)
    if axis in ("y", "both"):
        ax.yaxis.set_major_formatter(fmt)


def _scatter_by_franchise(ax: Axes, frame: pd.DataFrame, x: str, y: str) -> None:
    """One series per group (standalone, franchise), each named with its movie count."""
    for flag, group in ((False, "standalone"), (True, "franchise")):
        part = frame[frame["is_franchise"] == flag]
        if len(part):
            ax.scatter(
                part[x],
                part[y],
                s=28,
                alpha=0.7,
                color=FRANCHISE_COLOURS[flag],
                label=f"{group} ({len(part)} movies)",
                edgecolors="none",
            )


def revenue_vs_budget(frame: pd.DataFrame) -> Figure:
    title = "Revenue vs budget per movie"
    if frame.empty:
        return empty_figure(title, "gold.dim_movie (movies with a known budget and revenue)")
    fig = new_figure(title, "Source: gold.dim_movie, released movies with known amounts")
    ax = fig.add_subplot()
    _scatter_by_franchise(ax, frame, "budget_musd", "revenue_musd")
    top = float(max(frame["budget_musd"].max(), 1.0))
    ax.plot(
        [0, top], [0, top], ls="--", color="#444444", lw=1.2, label="break-even (revenue = budget)"
    )
    ax.set_xlabel("Budget (millions of USD)", fontsize=13)
    ax.set_ylabel("Revenue (millions of USD)", fontsize=13)
    _musd(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=11)
    return fig


def roi_by_genre_bar(frame: pd.DataFrame, min_budget_musd: float = 0) -> Figure:
    title = "Median ROI by genre"
    if frame.empty:
        return empty_figure(title, "gold.dim_movie (movies with a known ROI)")
    fig = new_figure(
        title,
        f"Source: gold.dim_movie; movies with a budget of at least {min_budget_musd:g} M USD;"
        " a movie counts in each of its genres",
    )
    ax = fig.add_subplot()
    ordered = frame.sort_values("median_roi")
    bars = ax.barh(ordered["genre"], ordered["median_roi"], color="#386cb0")
    ax.bar_label(
        bars,
        labels=[
            f"{r:.2f}x  (n={n})"
            for r, n in zip(ordered["median_roi"], ordered["movie_count"], strict=True)
        ],
        padding=4,
        fontsize=9,
    )
    ax.axvline(1.0, ls="--", color="#444444", lw=1, label="break-even (ROI = 1)")
    ax.set_xlabel("Median ROI (revenue / budget, ratio)", fontsize=13)
    ax.set_ylabel("Genre", fontsize=13)
    ax.set_xlim(0, float(ordered["median_roi"].max()) * 1.25 + 0.1)
    ax.tick_params(axis="y", labelsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=11)
    return fig


def popularity_vs_rating(frame: pd.DataFrame, min_votes: int = 0) -> Figure:
    title = "TMDB popularity vs rating"
    if frame.empty:
        return empty_figure(title, "gold.dim_movie (movies with enough votes)")
    fig = new_figure(
        title, f"Source: gold.dim_movie; movies with at least {min_votes} votes; log scale"
    )
    ax = fig.add_subplot()
    _scatter_by_franchise(ax, frame, "vote_average", "popularity")
    ax.set_yscale("log")
    ax.set_xlabel("TMDB mean vote (0-10 points)", fontsize=13)
    ax.set_ylabel("TMDB popularity (score, log scale)", fontsize=13)
    low, high = float(frame["vote_average"].min()), float(frame["vote_average"].max())
    ax.set_xlim(max(0.0, low - 0.5), min(10.0, high + 0.5))
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", fontsize=11)
    return fig


def yearly_trends(frame: pd.DataFrame) -> Figure:
    title = "Movies, budgets and revenues per release year"
    if frame.empty:
        return empty_figure(title, "gold.dim_movie (movies with a release year)")
    fig = new_figure(title, "Source: gold.dim_movie; totals ignore unknown amounts")
    money, count = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    money.plot(frame["release_year"], frame["revenue_musd"], color="#1b9e77", lw=2, label="revenue")
    money.plot(frame["release_year"], frame["budget_musd"], color="#7570b3", lw=2, label="budget")
    money.set_ylabel("Total (millions of USD)", fontsize=12)
    _musd(money, "y")
    money.grid(alpha=0.3)
    money.legend(loc="upper left", fontsize=11)
    count.bar(frame["release_year"], frame["movie_count"], color="#999999")
    count.set_ylabel("Movies (count)", fontsize=12)
    count.set_xlabel("Release year", fontsize=13)
    count.grid(axis="y", alpha=0.3)
    count.xaxis.set_major_locator(MaxNLocator(integer=True))
    count.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


FRANCHISE_PANELS = (
    ("movie_count", "Movies", "count"),
    ("mean_revenue_musd", "Mean revenue", "millions of USD"),
    ("mean_budget_musd", "Mean budget", "millions of USD"),
    ("median_roi", "Median ROI", "revenue / budget"),
    ("mean_popularity", "Mean popularity", "TMDB score"),
    ("mean_rating", "Mean rating", "TMDB 0-10 points"),
)


def franchise_vs_standalone(frame: pd.DataFrame) -> Figure:
    title = "Franchise vs standalone movies"
    if frame.empty:
        return empty_figure(title, "gold.kpi_franchise_vs_standalone")
    fig = new_figure(title, "Source: gold.kpi_franchise_vs_standalone")
    axes = fig.subplots(2, 3).ravel()
    groups = list(frame["movie_group"])
    colours = [FRANCHISE_COLOURS[g == "franchise"] for g in groups]
    for ax, (column, label, unit) in zip(axes, FRANCHISE_PANELS, strict=True):
        values = frame[column].astype(float).fillna(0.0)
        bars = ax.bar(groups, values, color=colours)
        ax.bar_label(bars, labels=[f"{v:,.2f}" if v < 100 else f"{v:,.0f}" for v in values])
        ax.set_ylabel(f"{label} ({unit})", fontsize=12)
        ax.set_ylim(0, float(values.max()) * 1.2 + 1e-9)
        ax.grid(axis="y", alpha=0.3)
    return fig


def sentiment_periods(frame: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Daily rows if there are few days, else weekly; shares per period (0..1)."""
    daily = frame[frame["granularity"] == "day"]
    granularity = "day" if len(daily) <= MAX_DAILY_PERIODS else "week"
    rows = frame[frame["granularity"] == granularity].sort_values("period_start").copy()
    counts = rows[list(SENTIMENT_COLOURS)].astype(float)
    total = counts.sum(axis=1).replace(0, np.nan)
    shares = counts.div(total, axis=0).fillna(0.0)
    shares.insert(0, "period_start", pd.to_datetime(rows["period_start"]))
    shares["comments"] = counts.sum(axis=1).astype(int)
    return granularity, shares.reset_index(drop=True)


def emotion_trends(frame: pd.DataFrame) -> Figure:
    title = "Comment sentiment over time"
    if frame.empty:
        return empty_figure(title, "gold.emotion_trends")
    granularity, shares = sentiment_periods(frame)
    fig = new_figure(title, f"Source: gold.emotion_trends; scored comments per {granularity} (UTC)")
    ax = fig.add_subplot()
    labels = [f"{d:%Y-%m-%d}" for d in shares["period_start"]]
    x = np.arange(len(labels))
    bottom = np.zeros(len(labels))
    for label, colour in SENTIMENT_COLOURS.items():
        ax.bar(x, shares[label], bottom=bottom, color=colour, label=label, width=0.8)
        bottom += shares[label].to_numpy()
    for xi, n in zip(x, shares["comments"], strict=True):
        ax.text(xi, 1.01, f"n={n}", ha="center", va="bottom", fontsize=9)
    step = max(1, len(labels) // 12)  # at most ~12 date labels: they never overlap
    ax.set_xticks(x[::step], labels[::step], rotation=30, ha="right")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.1)
    ax.set_xlabel(f"{granularity.capitalize()} starting (UTC date)", fontsize=13)
    ax.set_ylabel("Share of scored comments (%)", fontsize=13)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=11, title="sentiment")
    return fig


def engagement_grid(frame: pd.DataFrame) -> np.ndarray:
    """Events as a 7x24 array: rows Monday..Sunday (ISO 1..7), columns UTC hours 0..23."""
    grid = np.zeros((7, 24), dtype=int)
    for weekday, hour, events in frame[["weekday", "hour", "events"]].itertuples(index=False):
        grid[int(weekday) - 1, int(hour)] += int(events)
    return grid


def engagement_by_hour(frame: pd.DataFrame) -> Figure:
    title = "User events by hour and weekday"
    if frame.empty:
        return empty_figure(title, "gold.fact_user_event")
    grid = engagement_grid(frame)
    fig = new_figure(title, f"Source: gold.fact_user_event; {grid.sum():,} events, UTC")
    heat, hourly = fig.subplots(2, 1, height_ratios=(3, 1), sharex=True)
    image = heat.imshow(grid, aspect="auto", cmap="viridis", extent=(-0.5, 23.5, 6.5, -0.5))
    heat.set_yticks(range(7), WEEKDAYS)
    heat.set_ylabel("Weekday", fontsize=13)
    fig.colorbar(image, ax=heat, label="Events (count)")
    hourly.bar(range(24), grid.sum(axis=0), color="#386cb0")
    hourly.set_xticks(range(24), [f"{h:02d}" for h in range(24)])
    hourly.set_xlabel("Hour of day (UTC, hh)", fontsize=13)
    hourly.set_ylabel("Events (count)", fontsize=11)
    hourly.grid(axis="y", alpha=0.3)
    return fig


RENDERERS: dict[str, Callable[..., Figure]] = {
    "revenue_vs_budget": revenue_vs_budget,
    "roi_by_genre_bar": roi_by_genre_bar,
    "popularity_vs_rating": popularity_vs_rating,
    "yearly_trends": yearly_trends,
    "franchise_vs_standalone": franchise_vs_standalone,
    "emotion_trends": emotion_trends,
    "engagement_by_hour": engagement_by_hour,
}
