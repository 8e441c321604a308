"""``moviepipe serve`` / ``python -m serving.cli``: the real command serves the API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
from click.testing import CliRunner

from moviepipe.config import Settings
from serving.cli import serve, uvicorn_options


def test_serve_help_and_options() -> None:
    result = CliRunner().invoke(serve, ["--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--cache-size"):
        assert option in result.output
    assert CliRunner().invoke(serve, ["--port", "70000"]).exit_code == 2
    assert uvicorn_options("127.0.0.1", 8000, "info")["workers"] == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_on_its_port_and_stops_on_sigterm(api_gold: Settings) -> None:
    port = free_port()
    env = {**os.environ, "PGDATABASE": api_gold.pgdatabase}
    cmd = [sys.executable, "-m", "serving.cli", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, cwd=api_gold.project_dir, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        health = None
        while health is None and proc.poll() is None and time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.2)
        assert health is not None and health["status"] == "ok", proc.poll()
        top = httpx.get(f"http://127.0.0.1:{port}/api/top_movies?limit=1", timeout=10)
        assert top.status_code == 200 and len(top.json()["items"]) == 1
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert proc.returncode in (0, -signal.SIGTERM), out
    assert f"http://127.0.0.1:{port}" in out
