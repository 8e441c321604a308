"""``moviepipe stream ...``: command group for the event pipeline.

Usage::

    moviepipe stream produce --events 10000 --rate 500 [--seed 7]
    moviepipe stream produce --source movielens --data-dir ../shared/data/movielens_small
    moviepipe stream backup --available-now
    moviepipe stream land --available-now
    moviepipe stream fallback --available-now
    moviepipe stream promote-fallback RUN_ID [--by NAME]
    moviepipe stream reconcile [--json]

Each command prints a short summary; ``--json`` prints it as one JSON document.
"""

from __future__ import annotations

import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from moviepipe.cli_support import EXIT_INPUT, emit, exits_on, fail, json_option
from moviepipe.config import Settings


def _stop_on_sigterm() -> None:
    """SIGTERM (Airflow, systemd) stops a long-running consumer like Ctrl-C: cleanly."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _rules():
    from moviepipe.rules import load_rules

    return load_rules()


@click.group()
def stream() -> None:
    """Produce, land, back up and reconcile front-end events."""


@stream.command()
@click.option(
    "--events",
    "n_events",
    type=int,
    default=1000,
    show_default=True,
    help="Events to send (simulator).",
)
@click.option(
    "--rate", type=float, default=None, help="Events per second (default: as fast as possible)."
)
@click.option(
    "--source",
    type=click.Choice(["simulator", "movielens"]),
    default="simulator",
    show_default=True,
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=None, help="MovieLens directory."
)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Simulated time of the first session (UTC; default: 7 days ago, midnight).",
)
@click.option(
    "--movie-ids",
    default=None,
    help="Comma-separated TMDB ids (default: warehouse, sample, or 1..1000).",
)
@json_option
@click.pass_obj
def produce(
    settings: Settings,
    n_events: int,
    rate: float | None,
    source: str,
    data_dir: Path | None,
    seed: int,
    start: datetime | None,
    movie_ids: str | None,
    as_json: bool,
) -> None:
    """Send simulated or replayed MovieLens events to Kafka; prints a summary."""
    from streaming import sources
    from streaming.producer import produce as send

    skipped = None
    if source == "movielens":
        data_dir = data_dir or settings.moviepipe_data_dir / "movielens_small"
        replay = sources.movielens_events(data_dir)
        summary = send(settings, _rules(), replay, rate=rate)
        skipped = replay.skipped
    else:
        with exits_on(ValueError, code=EXIT_INPUT, prefix="--movie-ids: "):
            ids = (
                [int(x) for x in movie_ids.split(",")]
                if movie_ids
                else sources.warehouse_movie_ids(settings)
            )
        ids = ids or list(sources.DEFAULT_MOVIE_IDS)
        start, per_hour = sources.spread_until(n_events, datetime.now(UTC), start)
        events = sources.simulate_events(n_events, seed, ids, start, sessions_per_hour=per_hour)
        summary = send(settings, _rules(), events, rate=rate)
        summary["movies"] = len(ids)
    summary["source"] = source
    if skipped is not None:
        summary["skipped_no_tmdb_id"] = skipped
    emit(summary, as_json)
    if summary["failed"]:
        fail(f"{summary['failed']} event(s) were not delivered to Kafka")


@stream.command()
@click.option("--available-now", is_flag=True, help="Drain what is on the topics, then exit.")
@click.option("--checkpoint-dir", type=click.Path(path_type=Path), default=None)
@click.option(
    "--max-offsets", type=int, default=None, help="Override streaming.land.max_offsets_per_trigger."
)
@json_option
@click.pass_obj
def land(
    settings: Settings,
    available_now: bool,
    checkpoint_dir: Path | None,
    max_offsets: int | None,
    as_json: bool,
) -> None:
    """Spark: Kafka -> raw.user_events exactly once (dead letters to raw.user_events_rejected)."""
    from streaming.land import run_land

    _stop_on_sigterm()

    summary = run_land(
        settings,
        _rules(),
        available_now=available_now,
        checkpoint=checkpoint_dir,
        max_offsets=max_offsets,
    )
    emit(summary, as_json)


@stream.command()
@click.option("--available-now", is_flag=True, help="Drain what is on the topics, then exit.")
@click.option(
    "--chunk-size", type=int, default=None, help="Override streaming.fallback.chunk_size."
)
@json_option
@click.pass_obj
def fallback(
    settings: Settings, available_now: bool, chunk_size: int | None, as_json: bool
) -> None:
    """pandas: Kafka -> raw.user_events_fallback (when Spark is offline)."""
    from streaming.fallback import run_fallback

    _stop_on_sigterm()

    summary = run_fallback(settings, _rules(), available_now=available_now, chunk_size=chunk_size)
    emit(summary, as_json)


@stream.command("promote-fallback")
@click.argument("run_id")
@click.option("--by", "promoted_by", default=None, help="Who promotes (default: the OS user).")
@json_option
@click.pass_obj
def promote_fallback(
    settings: Settings, run_id: str, promoted_by: str | None, as_json: bool
) -> None:
    """Copy one fallback run into raw.user_events (skips existing events; safe to repeat)."""
    from streaming.fallback import promote_fallback as promote

    with exits_on(LookupError, code=EXIT_INPUT):
        summary = promote(settings, run_id, promoted_by)
    emit(summary, as_json)


@stream.command()
@click.option("--available-now", is_flag=True, help="Drain what is on the topics, then exit.")
@json_option
@click.pass_obj
def backup(settings: Settings, available_now: bool, as_json: bool) -> None:
    """Copy every message into MongoDB raw.user_logs (comments also raw.comments)."""
    from streaming.backup import run_backup

    _stop_on_sigterm()

    emit(run_backup(settings, _rules(), available_now=available_now), as_json)


@stream.command()
@json_option
@click.pass_obj
def reconcile(settings: Settings, as_json: bool) -> None:
    """Compare the MongoDB backup, raw.user_events and the fallback table; exit 1 on a gap."""
    from streaming.reconcile import reconcile as run
    from streaming.reconcile import summary_lines

    report = run(settings)
    emit(report, as_json, human=summary_lines)
    sys.exit(0 if report["ok"] else 1)
