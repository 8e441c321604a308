"""The project's Airflow: home ``.local/airflow``, SQLite metadata DB, DAGs in
``orchestration/dags/``, telemetry off, and the warehouse's settings in the environment.

One function builds the environment every Airflow process of the project runs with
(``moviepipe airflow ...``, the tests' ``dag.test()`` and the benchmark), so a DAG
behaves the same wherever it is started::

    from orchestration.airflow_env import airflow_env, ensure_db
    env = airflow_env(settings)           # a dict: AIRFLOW_HOME, AIRFLOW__..., PG*, DBT_*
    ensure_db(settings)                   # `airflow db migrate` on first use only

Secrets (role passwords) go into the process environment only, never into
``airflow.cfg`` or a DAG's serialized arguments.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from moviepipe.config import PROJECT_DIR, ROLES, Settings

DAGS_FOLDER = PROJECT_DIR / "orchestration" / "dags"


def airflow_home(settings: Settings) -> Path:
    return settings.home / "airflow"


def airflow_env(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an Airflow process on this project's home and settings."""
    from moviepipe.dbt_runner import dbt_env

    home = airflow_home(settings)
    # dbt's connection variables (transformer role) so cosmos' dbt subprocesses connect
    # where `moviepipe transform` does.
    env = dbt_env(settings, os.environ if base is None else base)
    # cosmos runs dbt in a copy of the project and reads the manifest from its target/.
    for key in ("DBT_TARGET_PATH", "DBT_PROJECT_DIR"):
        env.pop(key, None)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            # `standalone` binds the API server to loopback only.
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": "58080",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # tmdb_daily's parse runs `dbt ls` (cosmos): about 5 s idle, over 30 s (Airflow's
            # default import timeout) on the 2 shared cores under load.
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "180",
            "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "240",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW__COSMOS__CACHE_DIR": str(settings.home / "cosmos"),
            # cosmos keeps its `dbt ls` cache in an Airflow Variable: a database write at
            # parse time. Off: each parse runs `dbt ls` (about 4 s, no network).
            "AIRFLOW__COSMOS__ENABLE_CACHE_DBT_LS": "False",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DO_NOT_TRACK": "1",
            "SCARF_ANALYTICS": "false",
            "MOVIEPIPE_HOME": str(settings.home),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), env.get("PYTHONPATH")])),
            # The warehouse's database connection, for the `moviepipe` steps the tasks run.
            "PGDATABASE": settings.pgdatabase,
            "MOVIEPIPE_TOPIC_PREFIX": settings.moviepipe_topic_prefix,
        }
    )
    # The roles' passwords as the settings hold them (from .local/secrets.env or the
    # environment), so a task's `moviepipe` step connects even under another home.
    for role in ROLES:
        password = settings.role_password(role)
        if password:
            name = "PGPASSWORD" if role == "admin" else f"MOVIEPIPE_{role.upper()}_PASSWORD"
            env[name] = password
    return env


def airflow_argv(args: Sequence[str]) -> list[str]:
    exe = Path(sys.executable).with_name("airflow")
    return [str(exe) if exe.exists() else "airflow", *args]


def ensure_db(
    settings: Settings, env: Mapping[str, str] | None = None, *, serialize: bool = True
) -> bool:
    """``airflow db migrate`` (and a first ``dags reserialize``, unless ``serialize`` is
    False: ``dag.test()`` serializes its own DAG) when the metadata database does not exist
    yet; True if run."""
    home = airflow_home(settings)
    if (home / "airflow.db").exists():
        return False
    home.mkdir(parents=True, exist_ok=True)
    log = settings.log_dir / "airflow-db-migrate.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        # Airflow 3 lists DAGs from the metadata DB: serialize them once after the migrate.
        for args in (["db", "migrate"], ["dags", "reserialize"])[: 2 if serialize else 1]:
            proc = subprocess.run(
                airflow_argv(args),
                env=dict(env or airflow_env(settings)),
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
            if proc.returncode != 0:
                break
    if proc.returncode != 0:
        (home / "airflow.db").unlink(missing_ok=True)
        raise RuntimeError(f"airflow set-up failed (exit {proc.returncode}); see {log}")
    return True


def run_airflow(settings: Settings, args: Sequence[str]) -> int:
    """Airflow's own CLI with the project's home, DAGs and settings; its exit code."""
    env = airflow_env(settings)
    ensure_db(settings, env)
    return subprocess.run(airflow_argv(args), env=env, check=False).returncode
