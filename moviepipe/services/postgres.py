"""Local PostgreSQL: a cluster the project creates under ``.local/pg`` on loopback.

The server binaries come from Debian's ``postgresql`` package (``make setup``
installs it when missing). PostgreSQL refuses to run as root, so when we are
root the cluster is owned and run by the package's ``postgres`` OS user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg

from moviepipe.config import Settings
from moviepipe.services.process import (
    ServiceError,
    ServiceStatus,
    describe,
    needs_start,
    spawn,
    stop_pid,
    wait_healthy,
)

NAME = "postgres"
MIN_MAJOR = 15


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<major>/bin`` with major >= 15."""
    root = Path("/usr/lib/postgresql")
    majors = (
        sorted(
            (
                int(p.name)
                for p in root.glob("*")
                if p.name.isdigit() and (p / "bin/initdb").exists()
            ),
            reverse=True,
        )
        if root.exists()
        else []
    )
    for major in majors:
        if major >= MIN_MAJOR:
            return root / str(major) / "bin"
    raise ServiceError(
        NAME,
        f"no PostgreSQL {MIN_MAJOR}+ server binaries under {root}; "
        "run `make setup` (installs Debian's postgresql package)",
    )


def _paths(settings: Settings) -> dict[str, Path]:
    base = settings.home / "pg"
    return {
        "base": base,
        "data": base / "data",
        "socket": base / "run",
        "log": settings.log_dir / "postgres.log",
        "pid": settings.run_dir / "postgres.pid",
    }


def _os_user() -> str | None:
    """The OS user that must own the cluster: ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ServiceError(NAME, "running as root but no `postgres` OS user exists") from exc
    return "postgres"


def _make_traversable(path: Path) -> None:
    """Let the postgres OS user reach ``path``: add only the search bit (o+x) on ancestors."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def _chown_tree(path: Path, user: str) -> None:
    shutil.chown(path, user, user)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            shutil.chown(os.path.join(root, name), user, user)


def _initdb(settings: Settings, bindir: Path, paths: dict[str, Path], user: str | None) -> None:
    password = settings.role_password("admin")
    if not password:
        raise ServiceError(NAME, "PGPASSWORD is not set and no generated one was found")
    paths["base"].mkdir(parents=True, exist_ok=True)
    paths["socket"].mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=paths["base"], delete=False) as pwfile:
        pwfile.write(password + "\n")
    try:
        if user:
            _make_traversable(paths["base"])
            _chown_tree(paths["base"], user)
        cmd = [
            str(bindir / "initdb"),
            "-D",
            str(paths["data"]),
            "-U",
            settings.pguser,
            "--pwfile",
            pwfile.name,
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]
        result = subprocess.run(
            cmd,
            user=user,
            group=user,
            capture_output=True,
            text=True,
            check=False,
            extra_groups=[] if user else None,
        )
        if result.returncode != 0:
            raise ServiceError(
                NAME, f"initdb failed: {result.stderr.strip() or result.stdout.strip()}"
            )
    finally:
        os.unlink(pwfile.name)


def _server_options(settings: Settings, paths: dict[str, Path]) -> list[str]:
    opts = {
        "listen_addresses": settings.pghost if settings.pghost != "localhost" else "127.0.0.1",
        "port": str(settings.pgport),
        "unix_socket_directories": str(paths["socket"]),
        "max_connections": "200",
        "shared_buffers": "256MB",
        "work_mem": "32MB",
        "maintenance_work_mem": "128MB",
        "max_wal_size": "2GB",
        "logging_collector": "off",
        "log_min_messages": "warning",
    }
    out: list[str] = []
    for key, value in opts.items():
        out += ["-c", f"{key}={value}"]
    return out


def probe(settings: Settings) -> str | None:
    """The server's description when it accepts our credentials, else None (one connection)."""
    try:
        conninfo = settings.pg_conninfo("admin", dbname="postgres")
        with psycopg.connect(**conninfo, connect_timeout=2) as conn:
            return f"PostgreSQL {conn.execute('show server_version').fetchone()[0]}"
    except psycopg.Error:
        return None


def healthy(settings: Settings) -> bool:
    return probe(settings) is not None


def up(settings: Settings) -> ServiceStatus:
    paths = _paths(settings)
    taken_by = "a server that rejects our credentials; stop it or point PGPORT elsewhere"
    if needs_start(
        NAME, paths["pid"], settings.pghost, settings.pgport, lambda: healthy(settings), taken_by
    ):
        bindir = find_bindir()
        user = _os_user()
        if not (paths["data"] / "PG_VERSION").exists():
            _initdb(settings, bindir, paths, user)
        paths["socket"].mkdir(parents=True, exist_ok=True)
        if user:
            shutil.chown(paths["socket"], user, user)
        # A stale postmaster.pid from a killed server blocks start-up; postgres removes
        # it itself only when the recorded pid is gone, which it is (managed_pid is None).
        proc = spawn(
            NAME,
            [str(bindir / "postgres"), "-D", str(paths["data"]), *_server_options(settings, paths)],
            log_path=paths["log"],
            pid_file=paths["pid"],
            user=user,
        )
        wait_healthy(
            NAME,
            lambda: healthy(settings),
            timeout_s=settings.tunables.postgres.start_timeout_s,
            proc=proc,
            log_path=paths["log"],
        )
    return status(settings)


def down(settings: Settings) -> bool:
    # SIGINT is PostgreSQL's "fast" shutdown: roll back clients, checkpoint, exit.
    return stop_pid(NAME, _paths(settings)["pid"], sig=signal.SIGINT, timeout_s=60)


def status(settings: Settings) -> ServiceStatus:
    address = f"{settings.pghost}:{settings.pgport}"
    return describe(NAME, address, _paths(settings)["pid"], probe(settings))
