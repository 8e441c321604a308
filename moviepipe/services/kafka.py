"""Local Apache Kafka: one KRaft node (broker + controller) from Maven Central's jars.

``make setup`` resolves the broker's jars into ``.local/jars/kafka`` with the
``jars/kafka/pom.xml``; this module writes ``server.properties``, formats the
log directory once, starts ``kafka.Kafka`` with Java 17 and a small heap, then
creates the topics with the admin API.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

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

NAME = "kafka"

LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = warn
logger.org.name = org.apache.kafka
logger.org.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
"""


def bootstrap_address(settings: Settings) -> tuple[str, int]:
    first = settings.kafka_bootstrap_servers.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    return host or "127.0.0.1", int(port)


def _paths(settings: Settings) -> dict[str, Path]:
    base = settings.home / "kafka"
    return {
        "base": base,
        "data": base / "data",
        "config": base / "server.properties",
        "log4j": base / "log4j2.properties",
        "jars": settings.home / "jars" / "kafka",
        "log": settings.log_dir / "kafka.log",
        "pid": settings.run_dir / "kafka.pid",
    }


def server_properties(settings: Settings, data_dir: Path) -> str:
    host, port = bootstrap_address(settings)
    controller = settings.tunables.kafka.controller_port or port + 1
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{controller}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": str(settings.tunables.kafka.partitions),
        # A single node cannot replicate: every internal topic gets one replica.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "offsets.topic.num.partitions": "6",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "num.network.threads": "2",
        "num.io.threads": "4",
        "log.retention.hours": "168",
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


def _java() -> str:
    java = shutil.which("java")
    if not java:
        raise ServiceError(NAME, "no `java` on PATH; Kafka needs Java 17 (run `make setup`)")
    return java


def _classpath(jars: Path) -> str:
    if not jars.is_dir() or not any(jars.glob("kafka_*.jar")):
        raise ServiceError(NAME, f"broker jars missing in {jars}; run `make setup`")
    return f"{jars}/*"


def _format_storage(settings: Settings, paths: dict[str, Path], classpath: str) -> None:
    if (paths["data"] / "meta.properties").exists():
        return
    # Kafka cluster ids are 16 random bytes, base64url without padding.
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    cmd = [
        _java(),
        "-Xmx256m",
        "-cp",
        classpath,
        f"-Dlog4j2.configurationFile={paths['log4j']}",
        "kafka.tools.StorageTool",
        "format",
        # One token: a base64url id can start with "-" (1 in 64), which argparse reads as a flag.
        f"--cluster-id={cluster_id}",
        "-c",
        str(paths["config"]),
        "--ignore-formatted",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ServiceError(NAME, f"storage format failed: {result.stderr.strip()[-2000:]}")


def admin_client(settings: Settings) -> AdminClient:
    return AdminClient(
        {"bootstrap.servers": settings.kafka_bootstrap_servers, "socket.timeout.ms": 5000}
    )


def probe(settings: Settings) -> str | None:
    """The broker's description when one answers on the address, else None (one metadata call)."""
    host, port = bootstrap_address(settings)
    if not port_open(host, port):
        return None
    try:
        meta = admin_client(settings).list_topics(timeout=3)
    except KafkaException:
        return None
    if not meta.brokers:
        return None
    mine = [t for t in settings.topics if t in meta.topics]
    return f"Kafka KRaft, topics {len(mine)}/{len(settings.topics)}"


def healthy(settings: Settings) -> bool:
    return probe(settings) is not None


def ensure_topics(settings: Settings, names: list[str] | None = None) -> list[str]:
    """Create missing topics (partitions and config from the YAML); returns those created."""
    names = names if names is not None else settings.topics
    admin = admin_client(settings)
    existing = set(admin.list_topics(timeout=10).topics)
    config = dict(settings.tunables.kafka.topic_config)
    wanted = [
        NewTopic(
            name,
            num_partitions=settings.tunables.kafka.partitions,
            replication_factor=settings.tunables.kafka.replication_factor,
            config=config,
        )
        for name in names
        if name not in existing
    ]
    created = []
    for name, future in admin.create_topics(wanted, request_timeout=30).items() if wanted else []:
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise ServiceError(NAME, f"cannot create topic {name}: {exc}") from exc
    return created


def up(settings: Settings) -> ServiceStatus:
    paths = _paths(settings)
    host, port = bootstrap_address(settings)
    taken_by = "something that is not a Kafka broker"
    if needs_start(NAME, paths["pid"], host, port, lambda: healthy(settings), taken_by):
        classpath = _classpath(paths["jars"])
        paths["data"].mkdir(parents=True, exist_ok=True)
        paths["config"].write_text(server_properties(settings, paths["data"]))
        paths["log4j"].write_text(LOG4J2)
        _format_storage(settings, paths, classpath)
        heap = settings.tunables.kafka.heap.split()
        cmd = [
            _java(),
            *heap,
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:ActiveProcessorCount=2",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={paths['log4j']}",
            f"-Dkafka.logs.dir={paths['base']}",
            "-cp",
            classpath,
            "kafka.Kafka",
            str(paths["config"]),
        ]
        proc = spawn(NAME, cmd, log_path=paths["log"], pid_file=paths["pid"])
        wait_healthy(
            NAME,
            lambda: healthy(settings),
            timeout_s=settings.tunables.kafka.start_timeout_s,
            proc=proc,
            log_path=paths["log"],
        )
    ensure_topics(settings)
    return status(settings)


def down(settings: Settings) -> bool:
    return stop_pid(NAME, _paths(settings)["pid"], timeout_s=60)


def status(settings: Settings) -> ServiceStatus:
    pid_file = _paths(settings)["pid"]
    return describe(NAME, settings.kafka_bootstrap_servers, pid_file, probe(settings))
