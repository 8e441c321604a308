"""``moviepipe services up|down|status``: the local PostgreSQL, Kafka and MongoDB-wire servers.

The Spark standalone cluster (``services up spark``) is opt-in: never started by
default, stopped by every ``down``, listed by ``status`` when it runs or
``SPARK_MASTER`` names it.

Usage::

    from moviepipe.services import up, down, status
    settings = up(settings)          # idempotent; returns settings with generated passwords
    for s in status(settings): print(s.line())
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from typing import Protocol

from moviepipe import db
from moviepipe.config import Role, Settings, load_settings
from moviepipe.services import kafka, mongo, postgres, spark_cluster
from moviepipe.services.process import ServiceError, ServiceStatus

__all__ = [
    "OPTIONAL",
    "SERVICES",
    "ServiceError",
    "ServiceStatus",
    "down",
    "ensure_local_secrets",
    "status",
    "up",
]


class Service(Protocol):
    """What each service module (postgres, kafka, mongo) provides."""

    NAME: str

    def up(self, settings: Settings) -> ServiceStatus: ...
    def down(self, settings: Settings) -> bool: ...
    def status(self, settings: Settings) -> ServiceStatus: ...


# Start order matters: PostgreSQL first (bootstrap), then Kafka, then MongoDB-wire.
SERVICES: dict[str, Service] = {"postgres": postgres, "kafka": kafka, "mongo": mongo}  # type: ignore[dict-item]
# Started only when named (`services up spark`).
OPTIONAL: dict[str, Service] = {"spark": spark_cluster}  # type: ignore[dict-item]
ALL: dict[str, Service] = {**SERVICES, **OPTIONAL}

_GENERATED: dict[str, Role] = {
    "PGPASSWORD": "admin",
    "MOVIEPIPE_LOADER_PASSWORD": "loader",
    "MOVIEPIPE_TRANSFORMER_PASSWORD": "transformer",
    "MOVIEPIPE_READER_PASSWORD": "reader",
}


def ensure_local_secrets(settings: Settings) -> Settings:
    """Generate missing role passwords into ``.local/secrets.env`` (mode 0600).

    The local cluster needs passwords but git must never hold one, so they are
    made on first use and kept beside the cluster they belong to.
    """
    missing = [var for var, role in _GENERATED.items() if not settings.role_password(role)]
    if not missing:
        return settings
    path = settings.secrets_file
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        for var in missing:
            fh.write(f"{var}={secrets.token_urlsafe(24)}\n")
    return load_settings()


def up(
    settings: Settings,
    only: list[str] | None = None,
    on_ready: Callable[[ServiceStatus], None] | None = None,
) -> Settings:
    """Start every service (or ``only`` some) and wait for health; safe to repeat."""
    settings = ensure_local_secrets(settings)
    names = only or list(SERVICES)
    for name in names:
        st = ALL[name].up(settings)
        if name == "postgres":
            db.bootstrap(settings)
        if on_ready:
            on_ready(st)
    return settings


def down(settings: Settings, only: list[str] | None = None) -> dict[str, bool]:
    """Stop what ``up`` started (never a server it found running); returns name -> stopped."""
    names = only or list(reversed(list(ALL)))
    return {name: ALL[name].down(settings) for name in names}


def status(settings: Settings) -> list[ServiceStatus]:
    out = [module.status(settings) for module in SERVICES.values()]
    if spark_cluster.running(settings) or settings.spark_master == spark_cluster.master_url(
        settings
    ):
        out.append(spark_cluster.status(settings))
    return out
