"""Every ``moviepipe`` command and subcommand answers ``--help``: a one-line summary, options."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from commands.app import main
from moviepipe.cli_support import Group
from moviepipe.tunables import ConfigError


def walk(
    command: click.Command, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    """(path, command) of ``command`` and everything under it."""
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found += walk(sub, (*path, name))
    return found


COMMANDS = walk(main)
# Passes every argument, --help too, to a program of its own (Airflow's CLI).
PASSTHROUGH = {("airflow",)}


def test_the_walk_sees_the_whole_tree():
    paths = {path for path, _ in COMMANDS}
    assert {("services", "up"), ("stream", "reconcile"), ("extract", "tmdb"), ("config",)} <= paths
    assert len(paths) > 25


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(path) or "moviepipe" for path, _ in COMMANDS]
)
def test_help_has_a_one_line_summary_and_lists_the_options(path, command):
    summary = (command.help or "").strip().split("\n\n")[0]
    assert summary and "\n" not in summary, f"moviepipe {' '.join(path)}: {summary!r}"
    assert summary.endswith((".", ")")), summary
    options = [p for p in command.params if isinstance(p, click.Option) and not p.hidden and p.opts]
    if path in PASSTHROUGH:
        parent = click.Context(main, info_name="moviepipe")
        with click.Context(command, info_name=path[-1], parent=parent) as ctx:
            text, code = command.get_help(ctx), 0
    else:
        result = CliRunner().invoke(main, [*path, "--help"], prog_name="moviepipe")
        text, code = result.output, result.exit_code
    assert code == 0, text
    assert text.startswith(f"Usage: {' '.join(('moviepipe', *path))} "), text
    assert summary.split()[0] in text
    for option in options:
        assert option.opts[-1] in text, f"{option.opts} not in the help of {path}"
    assert "Options:" in text or not options


def test_a_bad_config_met_by_any_command_is_an_error_line_and_exit_2():
    @click.group(cls=Group)
    def root() -> None:
        """Root."""

    @root.command()
    def step() -> None:
        """Reads a tunable the YAML spells wrong."""
        raise ConfigError("c.yaml: kafka.partitionz: extra inputs are not permitted")

    result = CliRunner().invoke(root, ["step"])
    assert result.exit_code == 2
    assert result.stderr == "error: c.yaml: kafka.partitionz: extra inputs are not permitted\n"
    assert main.__class__ is Group  # the real root is one
