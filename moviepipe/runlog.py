"""Run log and bookmarks: the one place that writes ``ops.run_log`` and ``ops.bookmarks``.

Every step (extractors, streaming sinks, enrichment, the supervisor) logs one row per run
in ``ops.run_log`` through :func:`run`, and keeps its incremental position as a named text
value in ``ops.bookmarks`` (tables in ``moviepipe/sql/002_ops.sql``). The caller owns the
connection.

Usage::

    from moviepipe import db, runlog

    run_id = runlog.new_run_id("tmdb")
    with db.connect(settings, "loader", autocommit=True) as conn:
        args, secrets = {"changes": True}, runlog.secret_values(settings)
        with runlog.run(conn, run_id, "extract tmdb", args, secrets=secrets) as run:
            mark = runlog.get_bookmark(conn, "tmdb.changes")
            ...
            run.summary.update(fetched=42)
            run.status = "partial"  # optional; "succeeded" if the block ends normally
            # moves in the same transaction as the logged finish, only if it succeeded
            run.on_success(lambda c: runlog.set_bookmark(c, "tmdb.changes", "2026-11-22", run_id))

``run`` logs the row as ``running`` when the block starts, and when it ends the final
status, the summary and, if the block raised (``KeyboardInterrupt`` and SIGTERM included),
``failed`` with the error text, secrets masked; the exception is then re-raised. A run
that lasts hours passes a function that opens a connection (``lambda: db.connect(...)``)
instead of a connection.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb
from pydantic import SecretStr

from moviepipe.config import SECRET_ENV_VARS, Settings

log = logging.getLogger(__name__)

Status = Literal["running", "succeeded", "failed", "partial"]
Connector = Callable[[], AbstractContextManager[psycopg.Connection]]
MAX_ERROR_CHARS = 2000  # ops.run_log.error is read by people; a JVM stack trace is not
MASK = "***"
# Secrets that could reach an exception's text by shape rather than by value: URL user
# info (mongodb://user:pw@host), query or DSN parameters (api_key=..., password=...), and
# HTTP authorization headers.
_SECRET_PATTERNS = (
    (re.compile(r"(\w+://[^/\s:@]+:)[^@\s]+@"), rf"\g<1>{MASK}@"),
    (
        re.compile(
            r"(?i)\b((?:api_?key|access_token|read_access_token|token|password|passwd|secret)"
            r"\s*[=:]\s*)(['\"]?)[^\s&'\",;)]+"
        ),
        rf"\g<1>\g<2>{MASK}",
    ),
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+"), rf"\g<1>{MASK}"),
)


class Terminated(SystemExit):
    """SIGTERM received inside :func:`run`; exits with the shell's status for it, 143."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)

    def __str__(self) -> str:
        return "terminated by SIGTERM"


@dataclass
class Run:
    """The run being logged; the block sets ``summary``, ``status`` and ``error``."""

    run_id: str
    step: str
    summary: dict[str, Any] = field(default_factory=dict)
    status: Status | None = None  # None: "succeeded", or "failed" if the block raises
    error: str | None = None  # an error text of the caller's; else the exception's
    _on_success: list[Callable[[psycopg.Connection], None]] = field(default_factory=list)

    def on_success(self, fn: Callable[[psycopg.Connection], None]) -> None:
        """Call ``fn(conn)`` in the transaction that logs the finish, if the run succeeded:
        a bookmark moves only together with a logged, succeeded run."""
        self._on_success.append(fn)


def new_run_id(kind: str) -> str:
    """A sortable, unique run id such as ``tmdb-20261122T021500Z-1a2b3c4d``."""
    return f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def secret_values(settings: Settings) -> list[str]:
    """The values of the settings that are secrets (passwords, TMDB credentials)."""
    values = (getattr(settings, var.lower(), None) for var in SECRET_ENV_VARS)
    return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]


def mask_secrets(text: str, secrets: Iterable[str | SecretStr | None] = ()) -> str:
    """``text`` with the given secret values, the secret environment variables' values and
    anything shaped like a credential replaced by ``***``."""
    values = [s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets]
    values += [os.environ.get(var) for var in SECRET_ENV_VARS]
    # Longest first, so a secret containing another is masked whole; very short values
    # would mask ordinary words.
    for value in sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True):
        text = text.replace(value, MASK)
    for pattern, repl in _SECRET_PATTERNS:
        text = pattern.sub(repl, text)
    return text


def error_text(exc: BaseException, secrets: Iterable[str | SecretStr | None] = ()) -> str:
    """What ``ops.run_log.error`` says about ``exc``: its type and message, secrets masked."""
    message = str(exc)
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return mask_secrets(text, secrets)[:MAX_ERROR_CHARS]


@contextmanager
def run(
    conn: psycopg.Connection | Connector,
    run_id: str,
    step: str,
    args: dict[str, Any] | None = None,
    *,
    secrets: Iterable[str | SecretStr | None] = (),
    handle_sigterm: bool = True,
) -> Iterator[Run]:
    """Log the block as one run of ``step`` in ``ops.run_log``; yields its :class:`Run`.

    ``conn`` is an open connection, or a function opening one per write (for runs that
    last hours, such as the Spark landing, so no connection idles that long). A run id
    started again keeps its first row. With ``handle_sigterm`` (and in the main thread,
    with no SIGTERM handler of the application's), SIGTERM raises :class:`Terminated` in
    the block so that the run is logged ``failed`` too.
    """
    secrets = list(secrets)
    with _connection(conn) as c:
        _start(c, run_id, step, args or {})
        secrets.append(c.info.password)
    handle = Run(run_id, step)
    try:
        with _sigterm_raises() if handle_sigterm else nullcontext():
            yield handle
        with _connection(conn) as c:
            _finish(c, handle, handle.status or "succeeded")
    except BaseException as exc:
        _log_failure(conn, handle, error_text(exc, secrets))
        raise


def _log_failure(conn: psycopg.Connection | Connector, handle: Run, error: str) -> None:
    handle.error = handle.error or error
    try:
        with _connection(conn) as c:
            _finish(c, handle, "failed")
    except Exception:  # never hide the run's own error behind the logging's
        log.exception("run %s: could not log its failure", handle.run_id)


def _connection(conn: psycopg.Connection | Connector) -> AbstractContextManager:
    return nullcontext(conn) if isinstance(conn, psycopg.Connection) else conn()


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def raise_terminated(signum: int, frame: Any) -> None:
        raise Terminated

    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _start(conn: psycopg.Connection, run_id: str, step: str, args: dict[str, Any]) -> None:
    # Its own transaction (committed at once on an idle or autocommit connection): the
    # run is visible while it works, and stays logged if that work is rolled back.
    with conn.transaction():
        conn.execute(
            "insert into ops.run_log (run_id, step, args) values (%s, %s, %s)"
            " on conflict (run_id) do nothing",
            (run_id, step, Jsonb(args)),
        )


def _finish(conn: psycopg.Connection, handle: Run, status: Status | str) -> None:
    if conn.info.transaction_status == TransactionStatus.INERROR:
        conn.rollback()  # the failed block's statement; nothing of it can commit anyway
    with conn.transaction():
        conn.execute(
            "update ops.run_log set finished_at = now(), status = %s, summary = %s, error = %s"
            " where run_id = %s",
            (status, Jsonb(handle.summary), handle.error, handle.run_id),
        )
        if status == "succeeded":
            for fn in handle._on_success:
                fn(conn)


def get_bookmark(conn: psycopg.Connection, name: str) -> str | None:
    """The bookmark's value, or ``None`` if it was never set."""
    row = conn.execute("select value from ops.bookmarks where name = %s", (name,)).fetchone()
    return row[0] if row else None


def set_bookmark(conn: psycopg.Connection, name: str, value: str, run_id: str | None) -> None:
    """Create or overwrite a bookmark; runs in the caller's transaction, so it can be
    committed together with the rows it marks."""
    conn.execute(
        "insert into ops.bookmarks (name, value, run_id) values (%s, %s, %s)"
        " on conflict (name) do update set value = excluded.value, run_id = excluded.run_id,"
        " updated_at = now()",
        (name, value, run_id),
    )
