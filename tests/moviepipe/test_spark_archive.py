"""The driver's class-data archive: named by what it fits, mapped when built, and harmless
when it cannot be used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from moviepipe.config import load_settings
from moviepipe.spark import class_archive_options, class_archive_path
from moviepipe.spark_archive import build_class_archive

# Prints whether the driver JVM has the archive mapped, then runs a job on it.
PROBE = """
import sys
from moviepipe.config import load_settings
from moviepipe.spark import build_spark_session
archive, mode = sys.argv[1:]
options = None if mode == "default" else [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off"]
spark = build_spark_session(load_settings(), "test-class-archive", archive_options=options)
pid = spark.sparkContext._jvm.ProcessHandle.current().pid()
maps = open(f"/proc/{pid}/maps", encoding="utf-8").read()
print("mapped" if archive in maps else "not-mapped")
print(spark.range(1000).selectExpr("sum(id)").first()[0])
spark.stop()
"""


def _probe(archive: Path, mode: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(archive), mode],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return done.stdout.split()[-2:]


def _jars(folder: Path, sizes: dict[str, int]) -> list[Path]:
    folder.mkdir(exist_ok=True)
    for name, size in sizes.items():
        (folder / name).write_bytes(b"x" * size)
    return sorted(folder.glob("*.jar"))


def test_archive_name_changes_with_the_jars(tmp_path):
    settings = load_settings(moviepipe_home=tmp_path)
    jars = _jars(tmp_path / "a", {"spark-sql-kafka-0-10_2.13-4.0.0.jar": 10, "postgresql.jar": 5})
    same = _jars(tmp_path / "b", {"spark-sql-kafka-0-10_2.13-4.0.0.jar": 10, "postgresql.jar": 5})
    grown = _jars(tmp_path / "c", {"spark-sql-kafka-0-10_2.13-4.0.0.jar": 11, "postgresql.jar": 5})
    path = class_archive_path(settings, jars)
    assert path.parent == tmp_path / "spark" / "cds"
    assert class_archive_path(settings, same) == path
    assert class_archive_path(settings, grown) != path


def test_options_only_for_a_built_archive(tmp_path):
    settings = load_settings(moviepipe_home=tmp_path)
    jars = _jars(tmp_path / "jars", {"postgresql.jar": 5})
    assert class_archive_options(settings, jars) == []
    archive = class_archive_path(settings, jars)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"archive")
    assert f"-XX:SharedArchiveFile={archive}" in class_archive_options(settings, jars)


@pytest.mark.integration
@pytest.mark.spark
def test_driver_maps_the_built_archive():
    archive = build_class_archive(load_settings())  # `make setup` built it: returns at once
    assert archive.stat().st_size > 10 * 2**20
    assert not list(archive.parent.glob("*.partial"))
    assert _probe(archive, "default") == ["mapped", "499500"]


@pytest.mark.integration
@pytest.mark.spark
def test_an_unusable_archive_is_ignored(tmp_path):
    garbage = tmp_path / "driver-garbage.jsa"
    garbage.write_bytes(b"\0" * 4096)
    assert _probe(garbage, "given") == ["not-mapped", "499500"]
