"""Foundation benchmark: ``moviepipe services up`` from stopped, and a no-op ``make setup``.

Runs a second, throw-away stack (own MOVIEPIPE_HOME and ports) so the measurement
starts really from stopped without disturbing the developer's running stack.
Targets (issue 2): services up <= 60 s; no-op setup <= 10 s.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from moviepipe.config import PROJECT_DIR, load_settings

TARGET_UP_S = 60.0
TARGET_SETUP_S = 10.0


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def _timed(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    start = time.monotonic()
    subprocess.run(cmd, check=True, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def _isolated_env(home: Path) -> dict[str, str]:
    main_home = load_settings().home
    home.mkdir(parents=True, exist_ok=True)
    for shared in ("jars", "bin"):  # read-only artefacts of `make setup`
        (home / shared).symlink_to(main_home / shared)
    pg, kafka, controller, mongo, debug = _free_ports(5)
    config = yaml.safe_load((PROJECT_DIR / "config" / "moviepipe.yaml").read_text())
    config["kafka"]["controller_port"] = controller
    config["mongo"]["debug_addr"] = f"127.0.0.1:{debug}"
    cfg = home / "moviepipe.yaml"
    cfg.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "MOVIEPIPE_"))}
    env.update(
        MOVIEPIPE_HOME=str(home),
        MOVIEPIPE_CONFIG=str(cfg),
        PGPORT=str(pg),
        KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{kafka}",
        MONGO_URI=f"mongodb://127.0.0.1:{mongo}/",
    )
    return env


def _verdict(seconds: float, target: float) -> str:
    return f"target <= {target:.0f} s {'OK' if seconds <= target else 'MISSED'}"


def _verdict(seconds: float, target: float) -> str:
    return f"target <= {target:.0f} s {'OK' if seconds <= target else 'MISSED'}"


def main() -> None:
    moviepipe = [sys.executable, "-m", "commands"]
    with tempfile.TemporaryDirectory(prefix="mp-bench-") as tmp:
        env = _isolated_env(Path(tmp) / "home")
        try:
            first = _timed([*moviepipe, "services", "up"], env)
            subprocess.run(
                [*moviepipe, "services", "down"], check=True, env=env, stdout=subprocess.DEVNULL
            )
            again = _timed([*moviepipe, "services", "up"], env)
        finally:
            subprocess.run([*moviepipe, "services", "down"], env=env, stdout=subprocess.DEVNULL)
    setup = _timed(["make", "setup"], cwd=PROJECT_DIR)
    print(f"{'services up, first start (initdb, format)':<44}{first:6.1f} s")
    print(f"{'services up, from stopped':<44}{again:6.1f} s   {_verdict(again, TARGET_UP_S)}")
    print(f"{'make setup, nothing changed':<44}{setup:6.1f} s   {_verdict(setup, TARGET_SETUP_S)}")


if __name__ == "__main__":
    main()
