"""Run ``moviepipe stream land`` in a subprocess and SIGKILL it mid-run: the exactly-once drills.

Used by the local landing test, the cluster test and the fault tests::

    kills = land_through_kills(settings, env, land_cmd(ckpt), log, kills=2)
    final = land_once(env, land_cmd(ckpt), log)
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from moviepipe import db
from moviepipe.config import Settings
from streaming.land import SINK

MOVIEPIPE = Path(sys.executable).parent / "moviepipe"


def land_cmd(checkpoint: Path, max_offsets: int = 400) -> list[str]:
    return [str(MOVIEPIPE), "stream", "land", "--available-now",
            "--checkpoint-dir", str(checkpoint), "--max-offsets", str(max_offsets)]  # fmt: skip


def land_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The subprocess's environment: the scenario's database and topics (and ``extra``)."""
    return {
        **os.environ,
        "PGDATABASE": settings.pgdatabase,
        "MOVIEPIPE_TOPIC_PREFIX": settings.moviepipe_topic_prefix,
        **extra,
    }


def beats(settings: Settings) -> int:
    with db.connect(settings, "loader") as conn:
        return conn.execute(
            "select count(*) from ops.stream_heartbeat where sink = %s", (SINK,)
        ).fetchone()[0]


def start_after_batch(
    settings: Settings, env: dict[str, str], cmd: list[str], out: IO[bytes]
) -> subprocess.Popen[bytes]:
    """Start the landing in a session of its own; return once it committed a batch (or ended)."""
    before = beats(settings)
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out, start_new_session=True)
    deadline = time.monotonic() + 120
    while beats(settings) == before and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


def land_through_kills(
    settings: Settings, env: dict[str, str], cmd: list[str], log: Path, kills: int
) -> int:
    """Start the landing ``kills`` times, SIGKILL each soon after a batch committed.

    Returns how many runs were really killed (a run may drain and exit first).
    """
    done = 0
    with open(log, "ab") as out:
        for _ in range(kills):
            proc = start_after_batch(settings, env, cmd, out)
            time.sleep(random.uniform(0.05, 0.6))  # into the next batch
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # the driver and its JVM, no clean-up
                done += 1
            proc.wait()
    return done


def land_once(env: dict[str, str], cmd: list[str], log: Path, timeout: float = 300) -> int:
    """One landing run to its end; returns its exit code (output appended to ``log``)."""
    with open(log, "ab") as out:
        return subprocess.run(cmd, env=env, stdout=out, stderr=out, timeout=timeout).returncode
