"""``moviepipe transform``, ``moviepipe rules``, ``moviepipe docs``: the dbt side of the CLI.

dbt runs as a subprocess with the project's settings turned into the variables
``dbt_project/profiles.yml`` reads (host, port, database, the transformer role
and its password), so dbt connects exactly where the rest of the pipeline does::

    moviepipe rules compile [--check]     # transform_rules.json -> macros/generated/
    moviepipe rules check                 # exit 1 when the generated macros are stale
    moviepipe transform                   # dbt build (models, snapshot, tests, unit tests)
    moviepipe transform -- --select gold  # extra dbt arguments after --
    moviepipe transform -- run -s stg_movies   # another dbt command
    moviepipe docs                        # dbt docs generate -> .local/docs/dbt/index.html

From Python: ``run_dbt(settings, ["build"])`` returns dbt's exit code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import click

from moviepipe.config import PROJECT_DIR, Settings

DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"
# First words that name a dbt command; anything else after `--` is an option of `dbt build`.
DBT_COMMANDS = frozenset(
    {
        "build",
        "run",
        "test",
        "seed",
        "snapshot",
        "compile",
        "docs",
        "source",
        "ls",
        "list",
        "parse",
        "show",
        "debug",
        "clean",
        "run-operation",
        "retry",
        "clone",
    }
)


def dbt_env(
    settings: Settings,
    base: Mapping[str, str] | None = None,
    *,
    target_path: Path | None = None,
) -> dict[str, str]:
    """The environment dbt runs with: the profile's variables taken from ``settings``, and
    ``target_path`` (default :func:`default_target_path`) as dbt's target directory."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "PGHOST": settings.pghost,
            "PGPORT": str(settings.pgport),
            "PGDATABASE": settings.pgdatabase,
            "MOVIEPIPE_TRANSFORMER_USER": settings.role_user("transformer"),
            "MOVIEPIPE_TRANSFORMER_PASSWORD": settings.role_password("transformer") or "",
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
            "DBT_LOG_PATH": str(settings.log_dir / "dbt"),
            "DBT_TARGET_PATH": str(target_path or default_target_path(settings)),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PGTZ": "UTC",
            # JIT compilation costs more than it saves on the warehouse's short queries.
            "PGOPTIONS": " ".join(filter(None, [os.environ.get("PGOPTIONS"), "-c jit=off"])),
        }
    )
    # The admin's libpq variables must not leak into dbt's connection.
    env.pop("PGUSER", None)
    env.pop("PGPASSWORD", None)
    return env


def dbt_command(args: Sequence[str]) -> list[str]:
    """``dbt`` plus ``args``; ``build`` is the command when ``args`` starts with an option."""
    args = list(args)
    if not args or args[0] not in DBT_COMMANDS:
        args = ["build", *args]
    exe = Path(sys.executable).with_name("dbt")
    return [str(exe) if exe.exists() else "dbt", *args]


def default_target_path(settings: Settings) -> Path:
    """dbt's target dir per database, so runs against different databases never share state."""
    return settings.home / "dbt" / settings.pgdatabase / "target"


def run_dbt(
    settings: Settings,
    args: Sequence[str] = ("build",),
    *,
    target_path: Path | None = None,
    capture: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command against ``settings``' database as the transformer role."""
    return subprocess.run(
        dbt_command(args),
        cwd=DBT_PROJECT_DIR,
        env=dbt_env(settings, target_path=target_path),
        check=False,
        text=True,
        capture_output=capture,
    )


def run_dbt_in_process(
    settings: Settings, args: Sequence[str], *, target_path: Path | None = None
) -> bool:
    """Run one dbt command in this process (dbtRunner), as an orchestrator would.

    Saves the interpreter start-up and dbt's imports on every call after the
    first; the profile's variables are set in ``os.environ`` for the call only.
    """
    from dbt.cli.main import dbtRunner

    env = dbt_env(settings, base={}, target_path=target_path)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        result = dbtRunner().invoke(dbt_command(args)[1:])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return bool(result.success)


@click.group()
def rules() -> None:
    """Business rules in transform_rules.json."""


@rules.command("compile")
@click.option("--check", is_flag=True, help="Only check the generated macros are current.")
def rules_compile(check: bool) -> None:
    """Generate the dbt rule macros (macros/generated/transform_rules.sql)."""
    if check:
        _check_rules()
        return
    from moviepipe.rules_compile import write_macros

    click.echo(f"wrote {write_macros().relative_to(PROJECT_DIR)}")


@rules.command("check")
def rules_check() -> None:
    """Exit 1 when the generated macros do not match transform_rules.json."""
    _check_rules()


def _check_rules() -> None:
    # Imported here: the rules' pydantic models are not needed by the rest of the CLI.
    from moviepipe import rules_compile as rc

    if not rc.is_current():
        click.echo(
            f"{rc.DEFAULT_MACROS_PATH.relative_to(PROJECT_DIR)} is stale: "
            "run `moviepipe rules compile`",
            err=True,
        )
        sys.exit(1)
    click.echo("rule macros are current")


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def transform(settings: Settings, dbt_args: tuple[str, ...]) -> None:
    """dbt build on the warehouse (raw -> staging -> silver -> gold), as the transformer role.

    Arguments after `--` go to dbt: options of `dbt build`, or another dbt command.
    Stale rule macros are an error: run `moviepipe rules compile` first.
    """
    _check_rules()
    sys.exit(run_dbt(settings, dbt_args).returncode)


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Site directory (default .local/docs/dbt).",
)
@click.pass_obj
def docs(settings: Settings, out: Path | None) -> None:
    """Build the dbt docs site (index.html, manifest, catalog) from the live database."""
    out = out or settings.home / "docs" / "dbt"
    proc = run_dbt(settings, ["docs", "generate"], target_path=out)
    if proc.returncode == 0:
        click.echo(f"dbt docs: {out / 'index.html'}")
    sys.exit(proc.returncode)


@click.command("lint-sql", context_settings={"ignore_unknown_options": True})
@click.option("--fix", is_flag=True, help="Fix what sqlfluff can fix.")
@click.argument("paths", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def lint_sql(settings: Settings, fix: bool, paths: tuple[str, ...]) -> None:
    """sqlfluff (postgres dialect, dbt templater; .sqlfluff) on the dbt models.

    The dbt templater compiles the project, so it needs the same connection as
    `moviepipe transform`; this command provides it.
    """
    exe = Path(sys.executable).with_name("sqlfluff")
    args = [str(exe), "fix" if fix else "lint", *(paths or ["dbt_project"])]
    sys.exit(subprocess.run(args, cwd=PROJECT_DIR, env=dbt_env(settings), check=False).returncode)
