"""Local MongoDB-wire server: FerretDB v1 with its SQLite backend.

``make setup`` builds ``.local/bin/ferretdb`` with ``go build`` from the module
in ``tools/ferretdb`` (versions pinned by its go.sum, fetched from the Go module
proxy). FerretDB speaks the MongoDB wire protocol, so pymongo talks to it as to
a MongoDB server; docker-compose uses the official ``mongo`` image instead.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from moviepipe.config import Settings
from moviepipe.services.process import (
    ServiceError,
    ServiceStatus,
    describe,
    needs_start,
    port_open,
    spawn,
    stop_pid,
    wait_healthy,
)

NAME = "mongo"


def listen_address(settings: Settings) -> tuple[str, int]:
    parsed = urlparse(settings.mongo_uri)
    host = (parsed.hostname or "127.0.0.1").split(",")[0]
    return host, parsed.port or 27017


def _paths(settings: Settings) -> dict[str, Path]:
    base = settings.home / "ferretdb"
    return {
        "binary": settings.home / "bin" / "ferretdb",
        "data": base / "data",
        "state": base / "state",
        "log": settings.log_dir / "ferretdb.log",
        "pid": settings.run_dir / "ferretdb.pid",
    }


def client(settings: Settings, **kwargs) -> MongoClient:
    return MongoClient(settings.mongo_uri, serverSelectionTimeoutMS=3000, **kwargs)


def probe(settings: Settings) -> str | None:
    """The server's description when it answers on the address, else None (one client)."""
    host, port = listen_address(settings)
    if not port_open(host, port):
        return None
    try:
        with client(settings) as mc:
            info = mc.server_info()  # a round trip, like ping, that also names the server
    except PyMongoError:
        return None
    detail = f"MongoDB-wire {info.get('version', '?')}"
    if info.get("ferretdbVersion"):
        detail += f" (FerretDB {info['ferretdbVersion']})"
    return detail


def healthy(settings: Settings) -> bool:
    return probe(settings) is not None


def up(settings: Settings) -> ServiceStatus:
    paths = _paths(settings)
    host, port = listen_address(settings)
    taken_by = "something that is not a MongoDB-wire server"
    if needs_start(NAME, paths["pid"], host, port, lambda: healthy(settings), taken_by):
        if not paths["binary"].exists():
            raise ServiceError(
                NAME, f"{paths['binary']} missing; run `make setup` (builds FerretDB)"
            )
        paths["data"].mkdir(parents=True, exist_ok=True)
        paths["state"].mkdir(parents=True, exist_ok=True)
        cmd = [
            str(paths["binary"]),
            "--handler=sqlite",
            f"--sqlite-url=file:{paths['data']}/",
            f"--listen-addr={host}:{port}",
            f"--state-dir={paths['state']}",
            f"--debug-addr={settings.tunables.mongo.debug_addr or f'{host}:{port + 1}'}",
            "--telemetry=disable",
            "--log-level=warn",
        ]
        proc = spawn(NAME, cmd, log_path=paths["log"], pid_file=paths["pid"])
        wait_healthy(
            NAME,
            lambda: healthy(settings),
            timeout_s=settings.tunables.mongo.start_timeout_s,
            proc=proc,
            log_path=paths["log"],
        )
    return status(settings)


def down(settings: Settings) -> bool:
    return stop_pid(NAME, _paths(settings)["pid"], timeout_s=30)


def status(settings: Settings) -> ServiceStatus:
    host, port = listen_address(settings)
    return describe(NAME, f"{host}:{port}", _paths(settings)["pid"], probe(settings))
