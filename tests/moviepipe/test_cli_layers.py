"""Layering: the core package ``moviepipe/`` never imports the layers built on it.

Every file under ``moviepipe/`` is parsed (not imported), so an import hidden inside
a function counts too; the whole command tree is assembled in ``commands/`` instead.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from moviepipe.config import PROJECT_DIR

LAYERS = frozenset({"extract", "streaming", "enrich", "quality", "serving", "orchestration"})
CORE = PROJECT_DIR / "moviepipe"


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every absolute import, and of ``import_module("...")`` literals."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def layer_imports(root: Path) -> list[str]:
    """``path:line module`` for every import of a layer package by a file under ``root``."""
    bad = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, module in imported_modules(tree):
            if module.split(".")[0] in LAYERS:
                bad.append(f"{path.relative_to(root)}:{line} {module}")
    return bad


def test_core_package_imports_no_layer():
    assert len(list(CORE.rglob("*.py"))) > 10  # the walk really saw the package
    assert layer_imports(CORE) == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    (tmp_path / "m.py").write_text(
        "import json\n"
        "def f():\n"
        "    from streaming.cli import stream\n"
        "    import extract.tmdb\n"
        "    importlib.import_module('quality.cli')\n"
        "from moviepipe import logs\n"
    )
    bad = [entry.split(" ", 1)[1] for entry in layer_imports(tmp_path)]
    assert bad == ["streaming.cli", "extract.tmdb", "quality.cli"]


def test_importing_the_core_cli_loads_no_layer():
    code = (
        "import sys, moviepipe.cli, moviepipe.warehouse_cli;"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(LAYERS)!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_DIR
    )
    assert out.stdout.strip() == "[]"


def test_the_assembled_command_has_every_group():
    from commands.app import COMMAND_GROUPS, main

    names = set(main.commands)
    assert {"services", "config", "run"} <= names
    assert {group.name for group in COMMAND_GROUPS} <= names
    assert {"extract", "stream", "enrich", "transform", "publish", "charts"} <= names
