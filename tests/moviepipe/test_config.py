"""Settings: environment first, YAML tunables, secrets masked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from moviepipe.config import PROJECT_DIR, SECRET_ENV_VARS, load_settings
from moviepipe.tunables import Tunables, load_tunables


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("PGPORT", "6543")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    monkeypatch.setenv("MOVIEPIPE_TOPIC_PREFIX", "t_")
    settings = load_settings()
    assert settings.pgport == 6543
    assert settings.kafka_bootstrap_servers == "broker:9092"
    assert settings.topic("movie") == "t_movie"


def test_secrets_are_masked_in_dumps(monkeypatch):
    monkeypatch.setenv("TMDB_API_KEY", "super-secret-key")
    monkeypatch.setenv("MOVIEPIPE_READER_PASSWORD", "reader-secret")
    settings = load_settings()
    dumped = str(settings.safe_dump())
    assert "super-secret-key" not in dumped
    assert "reader-secret" not in dumped
    assert settings.safe_dump()["tmdb_api_key"] == "***"
    assert "super-secret-key" not in repr(settings)


def test_tunables_come_from_yaml_typed_with_defaults(tmp_path, monkeypatch):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("kafka:\n  partitions: 7\n  topics: [a, b]\n")
    monkeypatch.setenv("MOVIEPIPE_CONFIG", str(cfg))
    settings = load_settings()
    assert settings.tunables.kafka.partitions == 7
    assert settings.topics == ["a", "b"]
    # Keys the file leaves out take the model's defaults.
    assert settings.tunables.kafka.replication_factor == 1
    assert settings.tunables.streaming.fallback.chunk_size == 50_000


def test_committed_yaml_states_the_models_defaults():
    # One definition per default: the YAML restates the model, it never disagrees with it.
    committed = load_tunables(PROJECT_DIR / "config" / "moviepipe.yaml")
    assert committed == Tunables()
    assert committed.streaming.land.trigger_interval == "250 milliseconds"
    assert "snapshots" in committed.postgres.schemas


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "tmdb:\n  rate_limt_per_s: 10\n",
            "c.yaml: tmdb.rate_limt_per_s: extra inputs are not permitted",
        ),
        ("kafka:\n  partitions: three\n", "c.yaml: kafka.partitions: input should be a valid"),
        ("kafka:\n  topics: []\n", "c.yaml: kafka.topics: list should have at least 1 item"),
        ("streaming:\n  land:\n    driver_memry: 1g\n", "c.yaml: streaming.land.driver_memry"),
        ("- just a list\n", "c.yaml: expected a mapping of sections, got list"),
    ],
)
def test_bad_tunables_fail_moviepipe_config_naming_the_key(tmp_path, yaml_text, message):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml_text)
    env = {**os.environ, "MOVIEPIPE_CONFIG": str(cfg)}
    result = subprocess.run(
        [sys.executable, "-m", "commands", "config"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_config_prints_settings_and_tunables_as_json_with_secrets_masked(tmp_path):
    env = {**os.environ, "TMDB_API_KEY": "very-secret-key"}
    result = subprocess.run(
        [sys.executable, "-m", "commands", "config", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["settings"]["tmdb_api_key"] == "***"
    assert report["tunables"]["kafka"]["partitions"] == Tunables().kafka.partitions
    assert "very-secret-key" not in result.stdout


def test_conninfo_uses_the_role_and_its_password(monkeypatch):
    monkeypatch.setenv("MOVIEPIPE_LOADER_USER", "ldr")
    monkeypatch.setenv("MOVIEPIPE_LOADER_PASSWORD", "pw")
    info = load_settings().pg_conninfo("loader", dbname="x")
    assert (info["user"], info["password"], info["dbname"]) == ("ldr", "pw", "x")


def _fresh_clone_env(tmp_path, monkeypatch):
    """A fresh machine: no libpq/role variables exported, generated passwords in secrets.env,
    and `.env` copied from `.env.example`."""
    for var in (*SECRET_ENV_VARS, "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("MOVIEPIPE_HOME", str(home))
    (home / "secrets.env").write_text(
        "PGPASSWORD=admin-generated\n"
        "MOVIEPIPE_LOADER_PASSWORD=loader-generated\n"
        "MOVIEPIPE_TRANSFORMER_PASSWORD=transformer-generated\n"
        "MOVIEPIPE_READER_PASSWORD=reader-generated\n"
    )
    env_file = tmp_path / ".env"
    shutil.copy(PROJECT_DIR / ".env.example", env_file)
    return env_file


def test_env_copied_from_example_keeps_the_generated_passwords(tmp_path, monkeypatch):
    env_file = _fresh_clone_env(tmp_path, monkeypatch)
    assert "\nPGPASSWORD=\n" in env_file.read_text()  # the trap: an empty secret in .env
    settings = load_settings(env_file=env_file)
    assert settings.role_password("admin") == "admin-generated"
    assert settings.role_password("loader") == "loader-generated"
    assert settings.role_password("transformer") == "transformer-generated"
    assert settings.role_password("reader") == "reader-generated"
    assert settings.tmdb_api_key is None  # empty in .env.example: not set
    assert settings.moviepipe_topic_prefix == ""
    assert settings.pg_conninfo("loader")["password"] == "loader-generated"


def test_an_exported_empty_variable_means_not_set(tmp_path, monkeypatch):
    env_file = _fresh_clone_env(tmp_path, monkeypatch)
    monkeypatch.setenv("PGPASSWORD", "")
    monkeypatch.setenv("PGPORT", "")
    monkeypatch.setenv("MOVIEPIPE_CONFIG", "")
    settings = load_settings(env_file=env_file)
    assert settings.role_password("admin") == "admin-generated"
    assert settings.pgport == 55432
    assert settings.moviepipe_config == PROJECT_DIR / "config" / "moviepipe.yaml"
    monkeypatch.setenv("MOVIEPIPE_HOME", "")
    assert load_settings(env_file=env_file).home == PROJECT_DIR / ".local"
