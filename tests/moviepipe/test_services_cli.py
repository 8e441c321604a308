"""``moviepipe services``: up is idempotent, status reports each service, failures say where."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from moviepipe.services.process import ServiceError, managed_pid, spawn, stop_pid, wait_healthy

MOVIEPIPE = [sys.executable, "-m", "commands"]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MOVIEPIPE, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.integration
def test_up_twice_then_status_reports_every_service(stack):
    for _ in range(2):
        result = _run("services", "up")
        assert result.returncode == 0, result.stderr
    status = _run("services", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    lines = {line.split()[0]: line for line in status.stdout.splitlines() if line.strip()}
    assert set(lines) == {"postgres", "kafka", "mongo"}
    assert f"{stack.pghost}:{stack.pgport}" in lines["postgres"]
    assert stack.kafka_bootstrap_servers in lines["kafka"]
    assert (
        "57017" in lines["mongo"]
        or str(stack.mongo_uri.split(":")[-1].strip("/")) in lines["mongo"]
    )
    for line in lines.values():
        assert "healthy" in line


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_failed_start_names_service_reason_and_log(tmp_path):
    env = {
        **os.environ,
        "MOVIEPIPE_HOME": str(tmp_path),  # no FerretDB binary here
        "MONGO_URI": f"mongodb://127.0.0.1:{_free_port()}/",
    }
    result = _run("services", "up", "--only", "mongo", env=env)
    assert result.returncode == 1
    assert "mongo:" in result.stderr
    assert "make setup" in result.stderr
    assert str(tmp_path / "bin" / "ferretdb") in result.stderr


def test_process_that_dies_at_start_is_reported_with_its_log(tmp_path):
    log, pid_file = tmp_path / "x.log", tmp_path / "x.pid"
    proc = spawn("dummy", ["sh", "-c", "echo boom-reason; exit 3"], log_path=log, pid_file=pid_file)
    with pytest.raises(ServiceError) as err:
        wait_healthy("dummy", lambda: False, timeout_s=20, proc=proc, log_path=log)
    message = str(err.value)
    assert "dummy: exited with code 3" in message
    assert str(log) in message
    assert "boom-reason" in message


def test_stop_only_signals_the_recorded_process(tmp_path):
    pid_file = tmp_path / "sleep.pid"
    spawn("sleeper", ["sleep", "60"], log_path=tmp_path / "s.log", pid_file=pid_file)
    pid = managed_pid(pid_file)
    assert pid is not None
    assert stop_pid("sleeper", pid_file, timeout_s=5) is True
    assert managed_pid(pid_file) is None
    assert not pid_file.exists()
    # Nothing recorded: nothing to stop, and no error.
    assert stop_pid("sleeper", Path(tmp_path / "none.pid")) is False


def test_a_foreign_server_is_adopted_when_healthy_and_refused_when_not(tmp_path):
    from moviepipe.services.process import needs_start

    pid_file = tmp_path / "none.pid"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert needs_start("svc", pid_file, "127.0.0.1", port, lambda: True, "x") is False
        with pytest.raises(ServiceError, match=f"127.0.0.1:{port} is taken by a stranger"):
            needs_start("svc", pid_file, "127.0.0.1", port, lambda: False, "a stranger")
    # Nothing listens and nothing of ours runs: start it.
    assert needs_start("svc", pid_file, "127.0.0.1", port, lambda: False, "x") is True
