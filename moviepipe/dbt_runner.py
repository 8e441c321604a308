"""Run dbt against the warehouse as the transformer role, the one way every caller does.

dbt runs as a subprocess (or in this process, as an orchestrator would) with the
project's settings turned into the variables ``dbt_project/profiles.yml`` reads
(host, port, database, the transformer role and its password), so dbt connects
exactly where the rest of the pipeline does. Usage::

    from moviepipe.dbt_runner import run_dbt, run_dbt_in_process
    run_dbt(settings, ["build"]).returncode        # dbt's exit code
    run_dbt_in_process(settings, ["parse"])         # True when dbt succeeded
    dbt_env(settings)                               # the environment dbt runs with
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

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
