"""Settings: the one place that reads the environment.

Everything else receives a :class:`Settings` (or parts of it) as an argument.

Sources, highest priority first:

1. process environment variables (``PGHOST``, ``KAFKA_BOOTSTRAP_SERVERS``, ...);
2. ``.env`` in the project directory (git-ignored; copy ``.env.example``);
3. ``.local/secrets.env``, written by ``moviepipe services up`` with generated
   passwords for the local cluster's roles, so no password lives in git;
4. the defaults below.

An empty value (``PGPASSWORD=`` in ``.env``, or an exported empty variable)
means "not set": the next source, or the default, applies.

Tunables that are not secrets (topic layout, heap sizes, batch sizes, rate
limits) live in the YAML file named by ``MOVIEPIPE_CONFIG``
(default ``config/moviepipe.yaml``) and are exposed, typed, as
``settings.tunables`` (see :mod:`moviepipe.tunables`).

Usage::

    from moviepipe.config import load_settings
    settings = load_settings()
    settings.pg_conninfo("loader")
    settings.tunables.kafka.partitions
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from moviepipe.tunables import Tunables, load_tunables

PROJECT_DIR = Path(__file__).resolve().parents[1]

Role = Literal["admin", "loader", "transformer", "reader"]
ROLES: tuple[Role, ...] = ("admin", "loader", "transformer", "reader")
# Variables whose values are secrets: never logged, never written to git.
SECRET_ENV_VARS = (
    "PGPASSWORD",
    "MOVIEPIPE_LOADER_PASSWORD",
    "MOVIEPIPE_TRANSFORMER_PASSWORD",
    "MOVIEPIPE_READER_PASSWORD",
    "TMDB_API_KEY",
    "TMDB_READ_ACCESS_TOKEN",
    "METABASE_ADMIN_PASSWORD",
)


def _project_path(value: str | Path) -> Path:
    """Relative paths in settings are relative to the project, not the working directory."""
    path = Path(value).expanduser()
    return (path if path.is_absolute() else PROJECT_DIR / path).resolve()


def _home_dir() -> Path:
    return _project_path(os.environ.get("MOVIEPIPE_HOME") or ".local")  # empty means unset


class Settings(BaseSettings):
    """Environment-driven settings; field names map to upper-case variables."""

    model_config = SettingsConfigDict(
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        # `PGPASSWORD=` copied from .env.example must not hide the generated password.
        env_ignore_empty=True,
    )

    moviepipe_home: Path = Field(default_factory=_home_dir)
    moviepipe_config: Path = PROJECT_DIR / "config" / "moviepipe.yaml"

    # libpq's own variables; PGUSER is the owner/admin role of the database.
    pghost: str = "127.0.0.1"
    pgport: int = 55432
    pguser: str = "moviepipe"
    pgpassword: SecretStr | None = None
    pgdatabase: str = "moviepipe"

    # Least-privilege roles (created by moviepipe.db.bootstrap).
    moviepipe_loader_user: str = "moviepipe_loader"
    moviepipe_loader_password: SecretStr | None = None
    moviepipe_transformer_user: str = "moviepipe_transformer"
    moviepipe_transformer_password: SecretStr | None = None
    moviepipe_reader_user: str = "moviepipe_reader"
    moviepipe_reader_password: SecretStr | None = None

    kafka_bootstrap_servers: str = "127.0.0.1:59092"
    # Prefixes every topic name; tests use it to get topics of their own.
    moviepipe_topic_prefix: str = ""

    mongo_uri: str = "mongodb://127.0.0.1:57017/"

    tmdb_api_key: SecretStr | None = None
    tmdb_read_access_token: SecretStr | None = None
    tmdb_base_url: str = "https://api.themoviedb.org/3"

    spark_master: str = "local[2]"

    # Metabase's first admin, created by `moviepipe metabase provision` (no default
    # password: a dashboard server must not come up with a known one).
    moviepipe_metabase_url: str = "http://127.0.0.1:3000"
    metabase_admin_email: str | None = None
    metabase_admin_password: SecretStr | None = None

    # The real public data sets (TMDB 5000, MovieLens) for benchmarks and replays;
    # read by path, never copied into the project.
    moviepipe_data_dir: Path = Path("../shared/data")

    @field_validator("moviepipe_home", "moviepipe_config", "moviepipe_data_dir", mode="before")
    @classmethod
    def _anchor_paths(cls, value: str | Path) -> Path:
        return _project_path(value)

    # ---- derived -------------------------------------------------------
    @property
    def project_dir(self) -> Path:
        return PROJECT_DIR

    @property
    def home(self) -> Path:
        return self.moviepipe_home

    @property
    def log_dir(self) -> Path:
        return self.home / "log"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def secrets_file(self) -> Path:
        return self.home / "secrets.env"

    @cached_property
    def tunables(self) -> Tunables:
        """The typed YAML tunables; raises :class:`moviepipe.tunables.ConfigError`."""
        return load_tunables(self.moviepipe_config, display=self._display(self.moviepipe_config))

    @staticmethod
    def _display(path: Path) -> str:
        return str(path.relative_to(PROJECT_DIR)) if path.is_relative_to(PROJECT_DIR) else str(path)

    def topic(self, name: str) -> str:
        return f"{self.moviepipe_topic_prefix}{name}"

    @property
    def topics(self) -> list[str]:
        return [self.topic(t) for t in self.tunables.kafka.topics]

    def role_user(self, role: Role) -> str:
        if role == "admin":
            return self.pguser
        return getattr(self, f"moviepipe_{role}_user")

    def role_password(self, role: Role) -> str | None:
        field = "pgpassword" if role == "admin" else f"moviepipe_{role}_password"
        secret: SecretStr | None = getattr(self, field)
        return secret.get_secret_value() if secret else None

    def pg_conninfo(self, role: Role = "admin", dbname: str | None = None) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect`` as the given role."""
        info: dict[str, Any] = {
            "host": self.pghost,
            "port": self.pgport,
            "user": self.role_user(role),
            "dbname": dbname or self.pgdatabase,
            "application_name": f"moviepipe-{role}",
        }
        password = self.role_password(role)
        if password:
            info["password"] = password
        return info

    def pg_jdbc_url(self, dbname: str | None = None) -> str:
        return f"jdbc:postgresql://{self.pghost}:{self.pgport}/{dbname or self.pgdatabase}"

    def safe_dump(self) -> dict[str, Any]:
        """Settings with secrets masked, for ``moviepipe config`` and logs."""
        out = {}
        for key, value in self.model_dump().items():
            if isinstance(value, SecretStr) or key.upper() in SECRET_ENV_VARS:
                out[key] = "***" if value else None
            else:
                out[key] = str(value) if isinstance(value, Path) else value
        return out

    def effective(self) -> dict[str, Any]:
        """What ``moviepipe config`` prints: settings (secrets masked) and the tunables."""
        return {
            "settings": self.safe_dump(),
            "tunables": self.tunables.model_dump(mode="json"),
            "tunables_file": self._display(self.moviepipe_config),
        }


def load_settings(*, env_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the environment once; ``overrides`` win (used by tests).

    ``env_file`` replaces the project's ``.env`` (tests point it at a copy of
    ``.env.example``); ``.local/secrets.env`` is read beneath it either way.
    """
    env_files = (_home_dir() / "secrets.env", env_file or PROJECT_DIR / ".env")
    return Settings(_env_file=env_files, **overrides)
