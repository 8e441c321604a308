"""The one helper that builds a SparkSession, with the Kafka connector and JDBC driver.

``make setup`` resolves ``spark-sql-kafka-0-10`` (matching the pyspark version,
Scala 2.13) and the PostgreSQL JDBC driver into ``.local/jars/spark`` from
Maven Central; pyspark's wheel ships neither.

Spark's own log goes to ``.local/log/spark-<app>.log`` (INFO and up, rolled at 50 MB);
the console gets its errors only. That takes a log4j2 configuration
(``.local/spark/log4j2.properties``, written here) given to the JVM at launch: the JVM's
startup warnings come before any Python call could set a level.

Usage::

    from moviepipe.spark import build_spark_session
    spark = build_spark_session(settings, "moviepipe-land")
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moviepipe.config import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkSetupError(RuntimeError):
    pass


LOG_FILE_PROPERTY = "moviepipe.spark.log"  # JVM system property: this session's log file
# Spark's log4j2-defaults.properties with a rolling file for everything and the console for
# errors only.
LOG4J2_PROPERTIES = f"""\
# Written by moviepipe/spark.py; changes here are overwritten.
status = error
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
rootLogger.appenderRef.console.ref = console
rootLogger.appenderRef.console.level = error

appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{{yy/MM/dd HH:mm:ss}} %p %c{{1}}: %m%n%ex

appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = ${{sys:{LOG_FILE_PROPERTY}}}
appender.file.filePattern = ${{sys:{LOG_FILE_PROPERTY}}}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{yy/MM/dd HH:mm:ss.SSS}} %p %t %c{{1}}: %m%n%ex
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3

# PySpark's gateway initialises logging as a shell does: unless the gateway's logger has the
# root's level, Spark prints "Setting default log level" and filters the console itself.
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = info
logger.jetty.name = org.sparkproject.jetty
logger.jetty.level = warn
logger.jetty2.name = org.sparkproject.jetty.util.component.AbstractLifeCycle
logger.jetty2.level = error
logger.parquet.name = org.apache.parquet.CorruptStatistics
logger.parquet.level = error
"""


def log_config_path(settings: Settings) -> Path:
    return settings.home / "spark" / "log4j2.properties"


def spark_log_path(settings: Settings, app_name: str) -> Path:
    """``.local/log/spark-<app>.log``: one file per application, never two JVMs rolling one."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", app_name).strip("-") or "spark"
    return settings.log_dir / f"spark-{slug}.log"


def write_log_config(settings: Settings) -> Path:
    """Write the log4j2 configuration if it is missing or differs; returns its path."""
    path = log_config_path(settings)
    if not path.exists() or path.read_text(encoding="utf-8") != LOG4J2_PROPERTIES:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")  # sessions may start side by side
        tmp.write_text(LOG4J2_PROPERTIES, encoding="utf-8")
        tmp.replace(path)
    return path


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


def on_this_machine(master: str) -> bool:
    """``local[...]`` or a standalone master on loopback (``services up spark``)."""
    host = master.removeprefix("spark://").rpartition(":")[0]
    return master.startswith("local") or host in ("127.0.0.1", "localhost")


def class_archive_path(settings: Settings, jars: list[Path]) -> Path:
    """The driver's class-data archive (``moviepipe.spark_archive``), named by what it fits.

    A JVM maps an archive only for the exact JVM and classpath it was written by; the name
    changes with the java binary, pyspark and the jars, so a changed one is rebuilt, not tried.
    """
    from importlib.metadata import version  # not `import pyspark`: `make setup` asks this

    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home, "bin", "java") if java_home else Path(shutil.which("java") or "java")
    java = java.resolve()
    parts = [str(java), str(java.stat().st_mtime_ns) if java.exists() else "", version("pyspark")]
    parts += [f"{j.name}:{j.stat().st_size}" for j in jars]
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    return settings.home / "spark" / "cds" / f"driver-{key}.jsa"


def class_archive_options(settings: Settings, jars: list[Path]) -> list[str]:
    """Map the class archive if `make setup` built it (the JVM ignores one it cannot use)."""
    archive = class_archive_path(settings, jars)
    if not archive.exists():
        return []
    # Off: a JVM that cannot map the archive says so on stdout, and then just loads classes.
    return [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]


def spark_conf(
    settings: Settings,
    app_name: str,
    jars: list[Path],
    extra: dict[str, Any] | None = None,
    archive_options: list[str] | None = None,
) -> dict[str, str]:
    """``archive_options``: the class-archive JVM options; by default, map the built one."""
    if archive_options is None:
        archive_options = class_archive_options(settings, jars)
    conf: dict[str, Any] = {
        "spark.app.name": app_name,
        "spark.master": settings.spark_master,
        "spark.jars": ",".join(str(j) for j in jars),
        "spark.driver.memory": settings.tunables.spark.driver_memory,
        "spark.sql.shuffle.partitions": settings.tunables.spark.shuffle_partitions,
        "spark.ui.enabled": str(settings.tunables.spark.ui_enabled).lower(),
        "spark.sql.session.timeZone": "UTC",
        # The stage progress bar is console noise too: \r-redrawn lines in every log file.
        "spark.ui.showConsoleProgress": "false",
        "spark.local.dir": str(settings.home / "spark" / "tmp"),
        "spark.sql.warehouse.dir": str(settings.home / "spark" / "warehouse"),
        "spark.driver.extraJavaOptions": " ".join(
            [
                f"-Dderby.system.home={settings.home / 'spark'}",
                f"-Dlog4j2.configurationFile={log_config_path(settings).as_uri()}",
                f"-D{LOG_FILE_PROPERTY}={spark_log_path(settings, app_name)}",
                *archive_options,
            ]
        ),
    }
    if on_this_machine(settings.spark_master):
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
        # Executors on this machine run our venv's Python (the project is installed in it).
        conf["spark.pyspark.python"] = sys.executable
    if settings.spark_master.startswith("spark://"):
        # A standalone master gives an application every free core unless capped: one
        # executor of this size (the jars above reach it through the driver's file server).
        cluster = settings.tunables.spark.cluster
        conf["spark.executor.cores"] = cluster.executor_cores
        conf["spark.cores.max"] = cluster.executor_cores
        conf["spark.executor.memory"] = cluster.executor_memory
    conf.update(extra or {})
    return {k: str(v) for k, v in conf.items()}


def build_spark_session(
    settings: Settings,
    app_name: str = "moviepipe",
    extra: dict[str, Any] | None = None,
    archive_options: list[str] | None = None,
) -> SparkSession:
    from pyspark.sql import SparkSession

    jars = spark_jars(settings)
    check_versions(jars)
    (settings.home / "spark" / "tmp").mkdir(parents=True, exist_ok=True)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    write_log_config(settings)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers use our venv
    if on_this_machine(settings.spark_master):
        # Keep the driver on loopback: the machine's other interfaces may not route.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder
    for key, value in spark_conf(settings, app_name, jars, extra, archive_options).items():
        builder = builder.config(key, value)
    # No setLogLevel: the configuration above sets the levels, and a level set here would
    # also cut the file's INFO lines.
    return builder.getOrCreate()
