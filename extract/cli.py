"""``moviepipe extract ...``: command group for the extractors.

::

    moviepipe extract tmdb [--movie-ids IDS|@FILE] [--discover-pages N [--popular]]
                           [--changes [--since YYYY-MM-DD]] [--bronze-dir DIR] [--local-sample]
    moviepipe extract mongo [--collection user_logs|comments] [--sweep]
    moviepipe extract tmdb-server [--docs PATH] [--port P] [--error-rate F] ...
    moviepipe extract tmdb-sample [--out PATH]

``tmdb`` and ``mongo`` print a one-line summary, or with ``--json`` the summary as JSON.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import asdict
from datetime import date
from pathlib import Path

import click
from pydantic import SecretStr

from moviepipe.cli_support import EXIT_INPUT, emit, exits_on, fail, json_option
from moviepipe.config import Settings

LOCAL_KEY = "local-dev-key"  # the local sample server's key; not a secret, never TMDB's
AUTH_ERROR = (
    "TMDB rejected the credentials (check TMDB_API_KEY / TMDB_READ_ACCESS_TOKEN); "
    "run aborted, nothing more written: "
)


@click.group()
def extract() -> None:
    """Land source data into the bronze layer (raw)."""


def _parse_since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from exc


@extract.command("tmdb")
@click.option("--movie-ids", "movie_ids", help="Comma-separated ids, or @FILE with one id a line.")
@click.option(
    "--discover-pages", type=click.IntRange(1, 500), help="Pages 1..N of /discover/movie."
)
@click.option("--popular", is_flag=True, help="With --discover-pages: /movie/popular instead.")
@click.option("--changes", is_flag=True, help="Ids changed since the bookmark (or --since).")
@click.option("--since", callback=_parse_since, help="YYYY-MM-DD: start of --changes.")
@click.option(
    "--bronze-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write JSON and Parquet files under DIR/movies/ingestion_date=...",
)
@click.option(
    "--mongo-db", help="MongoDB database of the raw.movies backup (default mongo.database)."
)
@click.option("--batch-size", type=click.IntRange(1, 10_000), help="Movies per transaction.")
@click.option(
    "--local-sample",
    is_flag=True,
    help="Serve the committed synthetic sample locally and extract from it (demo, make run).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@json_option
@click.pass_obj
def tmdb(
    settings: Settings,
    movie_ids: str | None,
    discover_pages: int | None,
    popular: bool,
    changes: bool,
    since: date | None,
    bronze_dir: Path | None,
    mongo_db: str | None,
    batch_size: int | None,
    local_sample: bool,
    no_progress: bool,
    as_json: bool,
) -> None:
    """TMDB movie details into raw.tmdb_movies and MongoDB raw.movies.

    Exit status: 0 all landed, 1 some ids failed after retries (recorded in
    ops.extract_errors), 2 bad credentials or bad arguments.
    """
    from extract.tmdb.client import TmdbAuthError
    from extract.tmdb.load import run_tmdb_extract
    from extract.tmdb.paging import parse_movie_ids

    if since and not changes:
        raise click.UsageError("--since goes with --changes")
    if popular and not discover_pages:
        raise click.UsageError("--popular goes with --discover-pages")
    try:
        ids = parse_movie_ids(movie_ids) if movie_ids else None
    except (ValueError, OSError) as exc:
        raise click.BadParameter(str(exc), param_hint="--movie-ids") from exc
    with ExitStack() as stack:
        if local_sample:
            from extract.tmdb.dev.fakeserver import running_server
            from extract.tmdb.dev.sample import SAMPLE_PATH

            base_url = stack.enter_context(running_server(SAMPLE_PATH, api_key=LOCAL_KEY))
            settings = settings.model_copy(
                update={
                    "tmdb_base_url": base_url,
                    "tmdb_api_key": SecretStr(LOCAL_KEY),
                    "tmdb_read_access_token": None,
                }
            )
        with exits_on(TmdbAuthError, code=EXIT_INPUT, prefix=AUTH_ERROR):
            summary = run_tmdb_extract(
                settings,
                movie_ids=ids,
                discover_pages=discover_pages,
                popular=popular,
                changes=changes,
                since=since,
                bronze_dir=bronze_dir,
                mongo_db=mongo_db,
                batch_size=batch_size,
                progress=not no_progress,
            )
    emit(asdict(summary), as_json, human=lambda _: summary.line())
    if summary.failed:
        fail(
            f"{summary.failed} id(s) or page(s) failed after retries; "
            f"see ops.extract_errors where run_id = '{summary.run_id}'",
            summary.exit_code,
        )
    sys.exit(summary.exit_code)


@extract.command("mongo")
@click.option(
    "--collection",
    "collections",
    multiple=True,
    type=click.Choice(["user_logs", "comments"]),
    help="Default: both.",
)
@click.option("--mongo-db", help="MongoDB database (default mongo.database).")
@click.option("--batch-size", type=click.IntRange(1, 100_000), help="Documents per transaction.")
@click.option(
    "--sweep", is_flag=True, help="Also copy any document below the bookmark that is missing."
)
@json_option
@click.pass_obj
def mongo(
    settings: Settings,
    collections: tuple[str, ...],
    mongo_db: str | None,
    batch_size: int | None,
    sweep: bool,
    as_json: bool,
) -> None:
    """MongoDB raw.user_logs / raw.comments into raw.mongo_user_logs / raw.mongo_comments."""
    from extract.mongo.load import run_mongo_extract

    summary = run_mongo_extract(
        settings,
        collections=list(collections) or None,
        mongo_db=mongo_db,
        batch_size=batch_size,
        sweep=sweep,
    )
    emit(asdict(summary), as_json, human=lambda _: summary.line())


@extract.command("tmdb-server")
@click.option(
    "--docs",
    type=click.Path(exists=True, path_type=Path),
    help="Directory of <id>.json or a .jsonl(.gz) file (default: the synthetic sample).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, help="Default tmdb.local_server_port.")
@click.option(
    "--api-key", help=f"Key clients must send (default TMDB_API_KEY, else {LOCAL_KEY!r})."
)
@click.option("--rate-limit", type=float, help="Answer 429 above this many requests/s.")
@click.option("--error-rate", type=float, default=0.0, help="Share of 500/502/503 answers.")
@click.option("--slow-rate", type=float, default=0.0, help="Share of slow answers.")
@click.option("--slow-s", type=float, default=2.0, show_default=True)
@click.option("--truncate-rate", type=float, default=0.0, help="Share of truncated bodies.")
@click.pass_obj
def tmdb_server(
    settings: Settings,
    docs: Path | None,
    host: str,
    port: int | None,
    api_key: str | None,
    rate_limit: float | None,
    error_rate: float,
    slow_rate: float,
    slow_s: float,
    truncate_rate: float,
) -> None:
    """Serve TMDB-shaped documents locally (until Ctrl-C), with optional failure injection."""
    from extract.tmdb.dev.fakeserver import FakeTmdb, Faults, make_server
    from extract.tmdb.dev.sample import SAMPLE_PATH, load_docs

    key = api_key or (
        settings.tmdb_api_key.get_secret_value() if settings.tmdb_api_key else LOCAL_KEY
    )
    faults = Faults(
        rate_limit_per_s=rate_limit,
        error_rate=error_rate,
        slow_rate=slow_rate,
        slow_s=slow_s,
        truncate_rate=truncate_rate,
    )
    documents = load_docs(docs or SAMPLE_PATH)
    server = make_server(
        FakeTmdb(documents, api_key=key, faults=faults),
        host,
        port if port is not None else settings.tunables.tmdb.local_server_port,
    )
    url = f"http://{host}:{server.server_address[1]}/3"
    click.echo(f"serving {len(documents)} movies at {url} (TMDB_BASE_URL={url})", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@extract.command("tmdb-sample")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: the committed sample."
)
@click.option("--count", type=click.IntRange(1, 100_000), default=300, show_default=True)
@click.option("--seed", type=int, help="Default: the sample's fixed seed.")
def tmdb_sample(out: Path | None, count: int, seed: int | None) -> None:
    """Regenerate the deterministic synthetic TMDB sample (same seed, same bytes)."""
    from extract.tmdb.dev.sample import SAMPLE_PATH, SAMPLE_SEED, generate_movies, write_jsonl_gz

    path = out or SAMPLE_PATH
    n = write_jsonl_gz(generate_movies(count, SAMPLE_SEED if seed is None else seed), path)
    click.echo(f"wrote {n} movies to {path}")
