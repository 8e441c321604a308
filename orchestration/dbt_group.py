"""The dbt build as an astronomer-cosmos ``DbtTaskGroup`` in cosmos' watcher mode: one
task runs the one ``dbt build``, and each model, seed and snapshot keeps a task of its own
that shows its node's result (docs/orchestration.md).

cosmos runs every dbt command in a fresh temporary directory holding symlinks to the
project's files. ``dbt_project/dbt_project.yml`` reaches ``../macros`` and ``../seeds``
(they sit at the repository root): from a temporary directory those paths point nowhere,
and every model calling a project macro failed. So cosmos gets a *view* of the project,
``.local/cosmos/project/``: the same files as symlinks, the outside directories as links
inside it, and a ``dbt_project.yml`` derived from the real one that names those links
(:func:`outside_paths`, pure). The view is refreshed at DAG parse time, a local file write
only (no database, no network)::

    from orchestration.dbt_group import project_view
    project_view(Path(".local"))   # -> .local/cosmos/project

dbt runs as the transformer role with the variables ``moviepipe airflow`` puts in the
environment (never in the DAG), into the build schema ``gold_build`` (the
``gold_build_schema`` default of ``macros/generate_schema_name.sql``); Asset emission is
off, since cosmos would announce the build schema, which no reader sees.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from moviepipe.config import PROJECT_DIR

DBT_PROJECT = PROJECT_DIR / "dbt_project"
# dbt_project.yml keys that list directories relative to the project root.
PATH_KEYS = (
    "model-paths",
    "macro-paths",
    "seed-paths",
    "snapshot-paths",
    "test-paths",
    "docs-paths",
    "analysis-paths",
    "asset-paths",
)
# Never linked into the view: dbt's outputs, and the file the view rewrites.
NOT_LINKED = frozenset({"target", "logs", "dbt_packages", "dbt_project.yml"})


def outside_paths(
    project: dict[str, Any], project_dir: Path
) -> tuple[dict[str, Any], dict[str, Path]]:
    """``project`` (a parsed dbt_project.yml) with every path that leaves ``project_dir``
    renamed to a link inside the view, and those links (name -> directory).

    A link, not an absolute path: dbt writes a test's compiled SQL under the path of the
    YAML that declares it, and an absolute seed path made that ``/.../seeds/_seeds.yml/x.sql``.
    """
    root = project_dir.resolve()
    taken = {p.name for p in project_dir.iterdir()} if project_dir.is_dir() else set()
    out, links = dict(project), {}
    for key in PATH_KEYS:
        if key not in project:
            continue
        paths = []
        for entry in project[key]:
            target = (root / entry).resolve()
            if target.is_relative_to(root):
                paths.append(entry)
                continue
            name = next(n for n in (target.name, f"_{target.name}", f"__{target.name}")
                        if n not in taken or links.get(n) == target)  # fmt: skip
            links[name] = target
            paths.append(name)
        out[key] = paths
    return out, links


def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # atomic: a parser running at the same time sees old or new


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    link.unlink(missing_ok=True)
    with contextlib.suppress(FileExistsError):  # another parser made it meanwhile
        link.symlink_to(target.resolve())


def project_view(home: Path, project_dir: Path = DBT_PROJECT) -> Path:
    """Create or refresh ``HOME/cosmos/project``: symlinks to ``project_dir``'s files and
    its dbt_project.yml with outside paths made absolute. Idempotent; returns the path."""
    import yaml

    view = home / "cosmos" / "project"
    view.mkdir(parents=True, exist_ok=True)
    for child in project_dir.iterdir():
        if child.name not in NOT_LINKED:
            _link(view / child.name, child)
    for stale in view.iterdir():
        if stale.is_symlink() and not stale.exists():
            stale.unlink(missing_ok=True)  # a file removed from the project
    original = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    derived, outside = outside_paths(original, project_dir)
    for name, target in outside.items():
        _link(view / name, target)
    header = f"# Generated from {project_dir / 'dbt_project.yml'} for cosmos; do not edit.\n"
    _write_if_changed(view / "dbt_project.yml", header + yaml.safe_dump(derived, sort_keys=False))
    return view


def dbt_build_group(group_id: str = "dbt_build", select: list[str] | None = None):
    """The group; ``select`` (dbt selectors) narrows it, the whole project by default."""
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode

    from moviepipe.config import load_settings

    view = project_view(load_settings().home)
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(view, install_dbt_deps=False),
        profile_config=ProfileConfig(
            profile_name="moviepipe",
            target_name="local",
            profiles_yml_filepath=DBT_PROJECT / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            # One `dbt build` (the producer task) runs every node with dbt's own threads,
            # as `moviepipe transform` does; each model's task shows its node's result.
            # One dbt invocation per model instead cost about 5 s a model here.
            execution_mode=ExecutionMode.WATCHER,
            dbt_executable_path=str(Path(sys.executable).with_name("dbt")),
            # dbt in a process of its own: in the task's interpreter (DBT_RUNNER) cosmos'
            # per-event callback shared the GIL with dbt's threads, and the same build took
            # 60 s instead of the 13 s of `moviepipe transform`.
            invocation_mode=InvocationMode.SUBPROCESS,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_LS, emit_datasets=False, select=select or []
        ),
        operator_args={"emit_datasets": False},
        default_args={"doc_md": "One dbt node (cosmos watcher): its result in the dbt build."},
    )
    _producer_first(group)
    return group


def _producer_first(group) -> None:
    """The producer (the one ``dbt build``) upstream of every root node task of the group.

    cosmos wires that only for a whole-DAG ``DbtDag``; in a task group a node's task may
    start first and wait on results that no running task produces, which dead-locks a
    one-task-at-a-time run such as ``dag.test()``.
    """
    from cosmos.constants import PRODUCER_WATCHER_DONE_TASK_ID, PRODUCER_WATCHER_TASK_ID

    tasks = {t.task_id: t for t in group.iter_tasks()}
    producer = next(t for tid, t in tasks.items() if tid.endswith(PRODUCER_WATCHER_TASK_ID))
    for tid, task in tasks.items():
        if task is producer or tid.endswith(PRODUCER_WATCHER_DONE_TASK_ID):
            continue
        if not task.upstream_task_ids & set(tasks):
            producer >> task
            # Still run when the build failed, to show this node's own result.
            task.trigger_rule = "all_done"
