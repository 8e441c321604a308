"""The one helper that builds a SparkSession, with the Kafka connector and JDBC driver.

``make setup`` resolves ``spark-sql-kafka-0-10`` (matching the pyspark version,
Scala 2.13) and the PostgreSQL JDBC driver into ``.local/jars/spark`` from
Maven Central; pyspark's wheel ships neither.

Usage::

    from moviepipe.spark import build_spark_session
    spark = build_spark_session(settings, "moviepipe-land")
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moviepipe.config import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkSetupError(RuntimeError):
    pass


def spark_jars(settings: Settings) -> list[Path]:
    jar_dir = settings.home / "jars" / "spark"
    jars = sorted(jar_dir.glob("*.jar"))
    if not any(j.name.startswith("spark-sql-kafka-0-10") for j in jars):
        raise SparkSetupError(f"Spark Kafka connector missing in {jar_dir}; run `make setup`")
    if not any(j.name.startswith("postgresql-") for j in jars):
        raise SparkSetupError(f"PostgreSQL JDBC driver missing in {jar_dir}; run `make setup`")
    return jars


def check_versions(jars: list[Path]) -> None:
    """The connector must match pyspark exactly, or the Kafka source fails at run time."""
    import pyspark

    want = pyspark.__version__
    connector = [j.name for j in jars if j.name.startswith("spark-sql-kafka")]
    if not any(want in name for name in connector):
        raise SparkSetupError(f"pyspark {want} but connector {connector}; run `make setup`")


def spark_conf(
    settings: Settings, app_name: str, jars: list[Path], extra: dict[str, Any] | None = None
) -> dict[str, str]:
    conf: dict[str, Any] = {
        "spark.app.name": app_name,
        "spark.master": settings.spark_master,
        "spark.jars": ",".join(str(j) for j in jars),
        "spark.driver.memory": settings.tunables.spark.driver_memory,
        "spark.sql.shuffle.partitions": settings.tunables.spark.shuffle_partitions,
        "spark.ui.enabled": str(settings.tunables.spark.ui_enabled).lower(),
        "spark.sql.session.timeZone": "UTC",
        "spark.local.dir": str(settings.home / "spark" / "tmp"),
        "spark.sql.warehouse.dir": str(settings.home / "spark" / "warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={settings.home / 'spark'}",
    }
    if settings.spark_master.startswith("local"):
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    conf.update(extra or {})
    return {k: str(v) for k, v in conf.items()}


def build_spark_session(
    settings: Settings, app_name: str = "moviepipe", extra: dict[str, Any] | None = None
) -> SparkSession:
    from pyspark.sql import SparkSession

    jars = spark_jars(settings)
    check_versions(jars)
    (settings.home / "spark" / "tmp").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers use our venv
    if settings.spark_master.startswith("local"):
        # Keep the driver on loopback: the machine's other interfaces may not route.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder
    for key, value in spark_conf(settings, app_name, jars, extra).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
