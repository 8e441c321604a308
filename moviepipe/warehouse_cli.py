"""``moviepipe transform``, ``moviepipe rules``, ``moviepipe docs``: the dbt side of the CLI.

dbt runs as the transformer role on the settings' database (see
:mod:`moviepipe.dbt_runner`)::

    moviepipe rules compile [--check]     # transform_rules.json -> macros/generated/
    moviepipe rules check                 # exit 1 when the generated macros are stale
    moviepipe transform                   # dbt build (models, snapshot, tests, unit tests)
    moviepipe transform -- --select gold  # extra dbt arguments after --
    moviepipe transform -- run -s stg_movies   # another dbt command
    moviepipe docs                        # dbt docs generate -> .local/docs/dbt/index.html

The commands stay thin: running dbt is :mod:`moviepipe.dbt_runner`'s job.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from moviepipe.cli_support import fail
from moviepipe.config import PROJECT_DIR, Settings
from moviepipe.dbt_runner import dbt_env, run_dbt


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
        fail(
            f"{rc.DEFAULT_MACROS_PATH.relative_to(PROJECT_DIR)} is stale: "
            "run `moviepipe rules compile`"
        )
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
