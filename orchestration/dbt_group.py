"""The dbt build as an astronomer-cosmos ``DbtTaskGroup``: each model, seed, snapshot and
its tests a task, in the DAG's graph.

cosmos reads the project with ``dbt ls`` (cached under ``.local/cosmos``, see
:mod:`orchestration.airflow_env`) and runs dbt as the transformer role with the
variables ``moviepipe airflow`` puts in the environment (never in the DAG). Asset
emission is off: cosmos would announce the build schema, which no reader sees.
"""

from __future__ import annotations

from pathlib import Path

from moviepipe.config import PROJECT_DIR

DBT_PROJECT = PROJECT_DIR / "dbt_project"


def dbt_build_group(group_id: str = "dbt_build"):
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import LoadMode

    dbt = Path(__import__("sys").executable).with_name("dbt")
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(DBT_PROJECT, install_dbt_deps=False),
        profile_config=ProfileConfig(
            profile_name="moviepipe",
            target_name="local",
            profiles_yml_filepath=DBT_PROJECT / "profiles.yml",
        ),
        execution_config=ExecutionConfig(dbt_executable_path=str(dbt)),
        render_config=RenderConfig(load_method=LoadMode.DBT_LS, emit_datasets=False),
        operator_args={"emit_datasets": False},
        default_args={"doc_md": "One dbt node (cosmos), as the transformer role."},
    )
