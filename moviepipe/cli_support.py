"""One way for every command group to report: error messages, exit codes, text or ``--json``.

A command prints what a person reads by default and one JSON document with
``--json`` (for a script, a benchmark or a test); a known failure is one
``error: ...`` line on stderr and an exit code, never a traceback::

    from moviepipe.cli_support import EXIT_INPUT, emit, exits_on, fail, json_option

    @click.command()
    @json_option
    @click.pass_obj
    def promote(settings, as_json):
        with exits_on(LookupError, code=EXIT_INPUT):  # "error: <exc>" and exit 2
            summary = work(settings)
        emit(summary, as_json)                       # key/value lines, or the JSON
        if summary["failed"]:
            fail("some rows failed")                 # "error: ..." and exit 1

The root group is a :class:`Group`, so a bad ``config/moviepipe.yaml`` met by any
command is ``error: <file>: <key>: ...`` and exit 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn

import click

EXIT_FAILED = 1  # the command ran and failed (or found a problem)
EXIT_INPUT = 2  # bad arguments, settings or credentials; click's usage errors exit 2 too

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document instead (for machines)."
)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """``error: message`` on stderr, then exit ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def exits_on(
    *errors: type[BaseException], code: int = EXIT_FAILED, prefix: str = ""
) -> Iterator[None]:
    """Turn ``errors`` raised in the block into :func:`fail` (``error: <prefix><exc>``)."""
    try:
        yield
    except errors as exc:
        fail(f"{prefix}{exc}", code)


class Group(click.Group):
    """The root group: bad settings or tunables met by any command are an ``error:`` line
    and exit 2, not a traceback (tunables are read lazily, inside the commands)."""

    def invoke(self, ctx: click.Context) -> Any:
        from moviepipe.tunables import ConfigError

        with exits_on(ConfigError, code=EXIT_INPUT):
            return super().invoke(ctx)


def echo_json(data: object, *, indent: int | None = 2) -> None:
    click.echo(json.dumps(data, indent=indent, default=str))


def emit(
    data: object,
    as_json: bool,
    human: Callable[[Any], str | Iterable[str]] | None = None,
) -> None:
    """``data`` as JSON when ``as_json``, else as ``human(data)`` (default: key/value lines)."""
    if as_json:
        echo_json(data)
        return
    text = (human or summary_lines)(data)
    for line in [text] if isinstance(text, str) else text:
        click.echo(line)


def summary_lines(data: object, indent: str = "") -> list[str]:
    """A summary as aligned ``key  value`` lines (nested keys dotted)."""
    if not isinstance(data, Mapping):
        return [f"{indent}{human(data)}"]
    flat = flatten(data)
    width = max((len(k) for k in flat), default=0)
    return [f"{indent}{key:<{width}}  {human(value)}" for key, value in flat.items()]


def human(value: object) -> str:
    """A value as a person reads it: lists comma-separated, unset as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return '""' if value == "" else str(value)


def flatten(tree: Mapping, prefix: str = "") -> dict[str, object]:
    """Nested sections as dotted keys (``kafka.topic_config.retention.ms``)."""
    out: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
