"""``moviepipe metabase provision``: Metabase's connection, questions and dashboard from code.

The admin's credentials come from the environment only (``METABASE_ADMIN_EMAIL``,
``METABASE_ADMIN_PASSWORD``); the warehouse connection uses the reader role of the
project's settings. Nothing secret is printed.

Usage::

    moviepipe metabase provision                          # http://127.0.0.1:3000
    moviepipe metabase provision --url http://metabase:3000 --db-host postgres --db-port 5432
"""

from __future__ import annotations

from pathlib import Path

import click

from moviepipe.cli_support import EXIT_INPUT, echo_json, exits_on, fail, json_option
from moviepipe.config import Settings


def _connection(settings: Settings, host: str | None, port: int | None) -> dict[str, object]:
    """The reader role's connection, at the address Metabase reaches PostgreSQL on."""
    return {
        "host": host or settings.pghost,
        "port": port or settings.pgport,
        "dbname": settings.pgdatabase,
        "user": settings.role_user("reader"),
        "password": settings.role_password("reader"),
    }


@click.group("metabase")
def metabase() -> None:
    """Metabase dashboards as code (serving/metabase/dashboard.yml)."""


@metabase.command("provision")
@click.option("--url", default=None, help="Metabase's address (default MOVIEPIPE_METABASE_URL).")
@click.option("--db-host", default=None, help="PostgreSQL host as Metabase sees it (PGHOST).")
@click.option("--db-port", type=int, default=None, help="PostgreSQL port as Metabase sees it.")
@click.option(
    "--definition",
    "definition_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Default serving/metabase/dashboard.yml.",
)
@json_option
@click.pass_obj
def provision_cmd(
    settings: Settings,
    url: str | None,
    db_host: str | None,
    db_port: int | None,
    definition_file: Path | None,
    as_json: bool,
) -> None:
    """Set up Metabase, connect it to gold (reader role) and build the dashboard; idempotent."""
    from serving.metabase.client import MetabaseClient, MetabaseError
    from serving.metabase.definition import DEFINITION_FILE, DefinitionError, load_definition
    from serving.metabase.provision import Admin, provision

    # Secrets from the environment only (Settings): a command-line option would show in `ps`.
    url = url or settings.moviepipe_metabase_url
    email = settings.metabase_admin_email or ""
    secret = settings.metabase_admin_password
    password = secret.get_secret_value() if secret else ""
    if not email or not password:
        fail("set METABASE_ADMIN_EMAIL and METABASE_ADMIN_PASSWORD", EXIT_INPUT)
    connection = _connection(settings, db_host, db_port)
    if not connection["password"]:
        fail("no reader password (MOVIEPIPE_READER_PASSWORD)", EXIT_INPUT)
    with exits_on(DefinitionError, code=EXIT_INPUT, prefix="metabase: "):
        definition = load_definition(definition_file or DEFINITION_FILE)
    with (
        exits_on(MetabaseError, prefix="metabase: "),
        MetabaseClient(url, secrets=[password, str(connection["password"])]) as client,
    ):
        items = provision(client, definition, Admin(email, password), connection)
    if as_json:
        echo_json([i.as_json() for i in items])
        return
    for item in items:
        ident = "" if item.id is None else f"#{item.id}"
        click.echo(f"{item.kind:<10} {item.action:<10} {ident:<6} {item.name}")
