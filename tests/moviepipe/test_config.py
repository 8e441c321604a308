"""Settings: environment first, YAML tunables, secrets masked."""

from __future__ import annotations

from moviepipe.config import load_settings


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


def test_tunables_come_from_yaml(tmp_path, monkeypatch):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("kafka:\n  partitions: 7\n  topics: [a, b]\n")
    monkeypatch.setenv("MOVIEPIPE_CONFIG", str(cfg))
    settings = load_settings()
    assert settings.tunable("kafka.partitions") == 7
    assert settings.tunable("kafka.missing", "dflt") == "dflt"
    assert settings.topics == ["a", "b"]


def test_conninfo_uses_the_role_and_its_password(monkeypatch):
    monkeypatch.setenv("MOVIEPIPE_LOADER_USER", "ldr")
    monkeypatch.setenv("MOVIEPIPE_LOADER_PASSWORD", "pw")
    info = load_settings().pg_conninfo("loader", dbname="x")
    assert (info["user"], info["password"], info["dbname"]) == ("ldr", "pw", "x")
