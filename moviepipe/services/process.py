"""Start, find and stop the local server processes that ``services up`` owns.

Each managed process has a pid file under ``.local/run/`` and a log under
``.local/log/``. ``down`` only signals pids recorded in those files, so a
server somebody else started on the same port is never touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


class ServiceError(RuntimeError):
    """A service failed to start or stop; names the service, the cause and its log."""

    def __init__(self, service: str, reason: str, log_path: Path | None = None) -> None:
        self.service = service
        self.reason = reason
        self.log_path = log_path
        where = f" (log: {log_path})" if log_path else ""
        tail = ""
        if log_path and log_path.exists():
            tail = "\n--- last lines of the log ---\n" + tail_file(log_path, 15)
        super().__init__(f"{service}: {reason}{where}{tail}")


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    address: str
    healthy: bool
    managed: bool
    pid: int | None
    detail: str

    def line(self) -> str:
        state = "healthy" if self.healthy else "DOWN"
        owner = f"pid {self.pid}" if self.managed and self.pid else "external"
        if not self.healthy and not self.pid:
            owner = "not running"
        return f"{self.name:<10} {self.address:<28} {state:<8} {owner:<12} {self.detail}"


def tail_file(path: Path, lines: int) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 8192))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def managed_pid(pid_file: Path) -> int | None:
    """The pid recorded in ``pid_file`` if that process still runs."""
    pid = read_pid(pid_file)
    return pid if pid_alive(pid) else None


def needs_start(
    name: str, pid_file: Path, host: str, port: int, healthy: Callable[[], bool], taken_by: str
) -> bool:
    """Whether ``up`` must start the server.

    Not when our own process runs, nor when a healthy server somebody else
    started (docker compose, a system cluster) answers on the address: that one
    is used and never managed. A foreign, unhealthy listener is an error.
    """
    if managed_pid(pid_file) is not None:
        return False
    if port_open(host, port):
        if not healthy():
            raise ServiceError(name, f"{host}:{port} is taken by {taken_by}")
        return False
    return True


def describe(name: str, address: str, pid_file: Path, detail: str | None) -> ServiceStatus:
    """The status line of a service: healthy when its probe described it (``detail``)."""
    pid = managed_pid(pid_file)
    return ServiceStatus(
        name=name,
        address=address,
        healthy=detail is not None,
        managed=pid is not None,
        pid=pid,
        detail=detail or "",
    )


def spawn(
    name: str,
    cmd: Sequence[str],
    *,
    log_path: Path,
    pid_file: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``cmd`` detached from our session, logging to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"\n=== moviepipe starting {name}: {time.strftime('%F %T')} ===\n".encode())
        log.flush()
        try:
            proc = subprocess.Popen(
                list(cmd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,  # survives the CLI and Ctrl-C in the terminal
                user=user,
                group=user,
                extra_groups=[] if user else None,
            )
        except OSError as exc:
            raise ServiceError(name, f"cannot execute {cmd[0]}: {exc}", log_path) from exc
    pid_file.write_text(str(proc.pid))
    return proc


def wait_healthy(
    name: str,
    check: Callable[[], bool],
    *,
    timeout_s: float,
    proc: subprocess.Popen[bytes] | None,
    log_path: Path,
    interval_s: float = 0.25,
) -> float:
    """Poll ``check`` until it passes; fail fast when the process dies. Returns seconds waited."""
    start = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - start
        except Exception:
            pass
        if proc is not None and proc.poll() is not None:
            raise ServiceError(name, f"exited with code {proc.returncode} while starting", log_path)
        if time.monotonic() - start > timeout_s:
            raise ServiceError(name, f"not healthy after {timeout_s:.0f}s", log_path)
        time.sleep(interval_s)


def stop_pid(
    name: str, pid_file: Path, *, timeout_s: float = 30.0, sig: int = signal.SIGTERM
) -> bool:
    """Stop the process group recorded in ``pid_file``; SIGKILL after ``timeout_s``."""
    pid = managed_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        time.sleep(0.2)
        _reap(pid)
    pid_file.unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
