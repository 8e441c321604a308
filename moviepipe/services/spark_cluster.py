"""Local Spark standalone cluster: one master and one worker on loopback (opt-in).

Both daemons come from pyspark's own jars, started with the wheel's
``bin/spark-class`` (``org.apache.spark.deploy.master.Master`` and
``...worker.Worker``), so the cluster runs exactly the Spark the driver does.
Sizes and ports are the ``spark.cluster`` tunables; logs go to
``.local/log/spark-master.log`` and ``spark-worker.log``, the worker's
application directories to ``.local/spark/cluster/work``.

It is not part of the default ``services up``::

    moviepipe services up spark
    SPARK_MASTER=spark://127.0.0.1:57077 moviepipe stream land --available-now
    moviepipe services down spark

Health is what the master's ``/json/`` says: status ALIVE and at least one alive worker.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import urllib.request
from pathlib import Path
from typing import Any

from moviepipe.config import Settings
from moviepipe.services.process import (
    ServiceError,
    ServiceStatus,
    describe,
    managed_pid,
    needs_start,
    port_open,
    spawn,
    stop_pid,
    wait_healthy,
)

NAME = "spark"
HOST = "127.0.0.1"


def master_url(settings: Settings) -> str:
    return f"spark://{HOST}:{settings.tunables.spark.cluster.master_port}"


def ui_url(settings: Settings) -> str:
    return f"http://{HOST}:{settings.tunables.spark.cluster.master_ui_port}"


def _paths(settings: Settings) -> dict[str, Path]:
    base = settings.home / "spark" / "cluster"
    return {
        "work": base / "work",
        "local": base / "local",
        "master_log": settings.log_dir / "spark-master.log",
        "worker_log": settings.log_dir / "spark-worker.log",
        "master_pid": settings.run_dir / "spark-master.pid",
        "worker_pid": settings.run_dir / "spark-worker.pid",
    }


def spark_class() -> Path:
    """``bin/spark-class`` of the installed pyspark wheel."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError(NAME, "pyspark is not installed (run `make setup`)")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "spark-class"
    if not path.exists():
        raise ServiceError(NAME, f"{path} missing: pyspark's wheel ships it")
    return path


def master_state(settings: Settings) -> dict[str, Any] | None:
    """The master's ``/json/`` (workers, applications) when one answers, else None."""
    if not port_open(HOST, settings.tunables.spark.cluster.master_ui_port):
        return None
    try:
        # urllib, not httpx: httpx logs every request at INFO, once a poll while starting.
        with urllib.request.urlopen(f"{ui_url(settings)}/json/", timeout=3) as resp:
            state = json.load(resp)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and state.get("status") == "ALIVE" else None


def alive_workers(state: dict[str, Any] | None) -> int:
    return int(state.get("aliveworkers", 0)) if state else 0


def probe(settings: Settings) -> str | None:
    """The cluster's description when the master is alive with a worker, else None."""
    state = master_state(settings)
    if not alive_workers(state):
        return None
    assert state is not None
    apps = len(state.get("activeapps", []))
    return (
        f"standalone, workers {alive_workers(state)} ({state.get('cores', '?')} cores), "
        f"apps {apps}, UI {ui_url(settings)}"
    )


def healthy(settings: Settings) -> bool:
    return probe(settings) is not None


def _env(settings: Settings, paths: dict[str, Path]) -> dict[str, str]:
    cluster = settings.tunables.spark.cluster
    return {
        **os.environ,
        "SPARK_LOCAL_IP": HOST,  # every daemon and executor binds loopback only
        "SPARK_DAEMON_MEMORY": cluster.daemon_memory,
        "SPARK_LOCAL_DIRS": str(paths["local"]),
        # Finished applications' work directories are removed after a day.
        "SPARK_WORKER_OPTS": "-Dspark.worker.cleanup.enabled=true"
        " -Dspark.worker.cleanup.appDataTtl=86400",
    }


def master_cmd(settings: Settings) -> list[str]:
    cluster = settings.tunables.spark.cluster
    return [
        str(spark_class()), "org.apache.spark.deploy.master.Master",
        "--host", HOST, "--port", str(cluster.master_port),
        "--webui-port", str(cluster.master_ui_port),
    ]  # fmt: skip


def worker_cmd(settings: Settings, work_dir: Path) -> list[str]:
    cluster = settings.tunables.spark.cluster
    return [
        str(spark_class()), "org.apache.spark.deploy.worker.Worker",
        "--host", HOST, "--cores", str(cluster.worker_cores),
        "--memory", cluster.worker_memory, "--work-dir", str(work_dir),
        "--webui-port", str(cluster.worker_ui_port), master_url(settings),
    ]  # fmt: skip


def _need_java() -> None:
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        raise ServiceError(NAME, "no `java` on PATH; Spark needs Java 17 (run `make setup`)")


def up(settings: Settings) -> ServiceStatus:
    paths = _paths(settings)
    cluster = settings.tunables.spark.cluster
    taken_by = "something that is not a Spark master"
    env = _env(settings, paths)
    if needs_start(
        NAME,
        paths["master_pid"],
        HOST,
        cluster.master_ui_port,
        lambda: master_state(settings) is not None,
        taken_by,
    ):
        _need_java()
        paths["local"].mkdir(parents=True, exist_ok=True)
        proc = spawn(
            NAME, master_cmd(settings), log_path=paths["master_log"],
            pid_file=paths["master_pid"], env=env,
        )  # fmt: skip
        wait_healthy(
            NAME,
            lambda: master_state(settings) is not None and port_open(HOST, cluster.master_port),
            timeout_s=cluster.start_timeout_s,
            proc=proc,
            log_path=paths["master_log"],
        )
    # A master somebody else runs with its own workers is used as it is.
    if managed_pid(paths["worker_pid"]) is None and not alive_workers(master_state(settings)):
        _need_java()
        paths["work"].mkdir(parents=True, exist_ok=True)
        paths["local"].mkdir(parents=True, exist_ok=True)
        proc = spawn(
            f"{NAME} worker", worker_cmd(settings, paths["work"]),
            log_path=paths["worker_log"], pid_file=paths["worker_pid"], env=env,
        )  # fmt: skip
        wait_healthy(
            f"{NAME} worker",
            lambda: healthy(settings),
            timeout_s=cluster.start_timeout_s,
            proc=proc,
            log_path=paths["worker_log"],
        )
    return status(settings)


def down(settings: Settings) -> bool:
    paths = _paths(settings)
    # The worker first: its executors are in its process group and go with it.
    worker = stop_pid(f"{NAME} worker", paths["worker_pid"], timeout_s=30)
    master = stop_pid(NAME, paths["master_pid"], timeout_s=30)
    return worker or master


def running(settings: Settings) -> bool:
    """Whether there is anything to report: our daemons, or a master on the ports."""
    paths = _paths(settings)
    return (
        managed_pid(paths["master_pid"]) is not None
        or managed_pid(paths["worker_pid"]) is not None
        or port_open(HOST, settings.tunables.spark.cluster.master_ui_port)
    )


def status(settings: Settings) -> ServiceStatus:
    return describe(NAME, master_url(settings), _paths(settings)["master_pid"], probe(settings))
