"""docker-compose.yml stays valid: parsed and checked here, since no Docker engine runs in CI."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"

OFFICIAL_IMAGES = {
    "postgres": "postgres:",
    "mongo": "mongo:",
    "kafka": "apache/kafka:",
    "spark-master": "apache/spark:",
    "metabase": "metabase/metabase:",
}
PROJECT_ENV = {
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "KAFKA_BOOTSTRAP_SERVERS",
    "MONGO_URI",
    "TMDB_API_KEY",
    "TMDB_READ_ACCESS_TOKEN",
    "TMDB_BASE_URL",
    "SPARK_MASTER",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_official_images_are_pinned(compose):
    services = compose["services"]
    for name, prefix in OFFICIAL_IMAGES.items():
        image = services[name]["image"]
        assert image.startswith(prefix), (name, image)
        assert not image.endswith(":latest") and ":" in image, f"{name} image must be pinned"


def test_every_long_running_service_has_a_healthcheck(compose):
    for name, svc in compose["services"].items():
        if name == "init":  # one-shot job
            continue
        check = svc.get("healthcheck")
        assert check and check["test"], f"{name} has no health check"
        assert check["test"][0] in ("CMD", "CMD-SHELL")


def test_project_services_share_the_environment_variables(compose):
    for name in ("init", "stream-land", "airflow", "api"):
        env = compose["services"][name]["environment"]
        assert set(env) >= PROJECT_ENV, (name, PROJECT_ENV - set(env))


def test_named_volumes_are_declared_and_used(compose):
    declared = set(compose["volumes"])
    used = set()
    for svc in compose["services"].values():
        for vol in svc.get("volumes", []):
            source = vol.split(":")[0]
            if not source.startswith((".", "/")):
                used.add(source)
    assert used and used <= declared
    assert {"pgdata", "mongodata", "kafkadata"} <= used


def test_ports_bind_loopback_and_do_not_clash(compose):
    host_ports = []
    for name, svc in compose["services"].items():
        for port in svc.get("ports", []):
            assert re.fullmatch(r"127\.0\.0\.1:\d+:\d+", port), (name, port)
            host_ports.append(port.split(":")[1])
    assert len(host_ports) == len(set(host_ports))


def test_spark_master_url_names_the_master_and_its_worker(compose):
    url = compose["x-moviepipe-env"]["SPARK_MASTER"]
    host, port = re.fullmatch(r"spark://([\w-]+):(\d+)", url).groups()
    master, worker = compose["services"][host], compose["services"]["spark-worker"]
    assert master["command"][-1] == "org.apache.spark.deploy.master.Master"
    assert port == "7077"  # the master's default port: its command sets none
    assert any(p.endswith(f":{port}") for p in master["ports"])
    assert worker["command"][-1] == url
    # executors run the project's Python code: the worker is the landing job's image
    assert worker["image"] == compose["services"]["stream-land"]["image"]
    assert worker["entrypoint"][0].endswith("/pyspark/bin/spark-class")


def test_depends_on_names_exist(compose):
    names = set(compose["services"])
    for svc in compose["services"].values():
        assert set(svc.get("depends_on", {})) <= names


def test_dockerfiles_exist_for_built_services(compose):
    for svc in compose["services"].values():
        build = svc.get("build")
        if build:
            context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = (
                build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
            )
            assert (context / dockerfile).is_file()


SECRETS = {
    "PGPASSWORD": "x",
    "MOVIEPIPE_LOADER_PASSWORD": "x",
    "MOVIEPIPE_TRANSFORMER_PASSWORD": "x",
    "MOVIEPIPE_READER_PASSWORD": "x",
}


def _compose_check(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Built by `make setup` from tools/compose-check (compose-go, the spec's reference loader).
    binary = ROOT / ".local" / "bin" / "compose-check"
    assert binary.exists(), "run `make setup` to build compose-check"
    return subprocess.run([str(binary), str(path)], capture_output=True, text=True, env=env)


def test_compose_spec_loader_accepts_the_file():
    result = _compose_check(COMPOSE, {**SECRETS, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == set(yaml.safe_load(COMPOSE.read_text())["services"])


def test_compose_spec_loader_rejects_a_broken_file_and_missing_secrets(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("    healthcheck:", "    healthcheckz:", 1))
    result = _compose_check(broken, {**SECRETS, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "healthcheckz" in result.stderr
    # Secrets have no defaults: compose refuses to start without them.
    result = _compose_check(COMPOSE, {"PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "PGPASSWORD" in result.stderr
