"""Typed tunables: the settings that are not secrets, from ``config/moviepipe.yaml``.

Each section of the YAML is a pydantic model below, and each default is defined
here, once; the committed YAML restates them with comments (a test keeps the two
equal). Every model forbids unknown keys, so a misspelt key, a wrong type or an
empty topic list fails with an error that names the file and the key::

    config/moviepipe.yaml: tmdb.rate_limt_per_s: extra inputs are not permitted

Read them from the settings, as typed attributes::

    settings = load_settings()
    settings.tunables.kafka.partitions          # 3
    settings.tunables.streaming.land.trigger_interval

A new tunable is a field with its default on the section's model (and a line in
the YAML); a new section is a model here and a field on :class:`Tunables`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError


class ConfigError(ValueError):
    """Configuration that cannot be used; the message names the file and the key."""


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PostgresTunables(Section):
    # Schemas of the warehouse layers, created by `moviepipe services up`.
    schemas: list[str] = Field(
        default=[
            "raw",
            "staging",
            "silver",
            "gold",
            "gold_build",
            "gold_previous",
            "seeds",
            "ops",
            "snapshots",
        ],
        min_length=1,
    )
    start_timeout_s: PositiveFloat = 60


class KafkaTunables(Section):
    # KRaft controller listener; None means the broker port + 1.
    controller_port: PositiveInt | None = None
    heap: str = "-Xms256m -Xmx768m"
    start_timeout_s: PositiveFloat = 90
    topics: list[str] = Field(
        default=["movie", "user_watch_log", "user_click_log", "user_comment_log"], min_length=1
    )
    partitions: PositiveInt = 3
    replication_factor: PositiveInt = 1
    topic_config: dict[str, str] = {
        "retention.ms": "604800000",
        "cleanup.policy": "delete",
        "max.message.bytes": "1048576",
    }


class MongoTunables(Section):
    # FerretDB debug/metrics listener; None means the MongoDB port + 1.
    debug_addr: str | None = None
    start_timeout_s: PositiveFloat = 60
    database: str = Field(default="raw", min_length=1)
    batch_size: PositiveInt = 500


class TmdbTunables(Section):
    rate_limit_per_s: PositiveFloat = 40
    concurrency: PositiveInt = 16
    timeout_s: PositiveFloat = 10
    max_retries: int = Field(default=5, ge=0)
    batch_size: PositiveInt = 100
    local_server_port: int = Field(default=58090, ge=0, le=65535)
    default_movie_ids: list[PositiveInt] = [
        900_093_788, 900_023_470, 900_624_616, 900_013_602, 900_218_284, 900_105_147, 900_804_805,
        900_045_195, 900_372_399, 901_074_725, 900_257_750, 900_075_954, 900_555_090, 900_583_848,
        901_077_841, 900_289_778, 900_555_306, 900_774_920, 900_702_305, 900_464_971,
    ]  # fmt: skip


class SparkClusterTunables(Section):
    """``moviepipe services up spark``: a standalone master and one worker on loopback."""

    master_port: int = Field(default=57077, ge=1, le=65535)
    master_ui_port: int = Field(default=57080, ge=1, le=65535)
    worker_ui_port: int = Field(default=57081, ge=1, le=65535)
    # Two cores on the machine: the worker offers both, and one executor takes them.
    worker_cores: PositiveInt = 2
    worker_memory: str = "2g"
    executor_cores: PositiveInt = 2
    executor_memory: str = "1g"
    # Heap of the master and worker daemons themselves (SPARK_DAEMON_MEMORY).
    daemon_memory: str = "256m"
    start_timeout_s: PositiveFloat = 60


class SparkTunables(Section):
    driver_memory: str = "1g"
    shuffle_partitions: PositiveInt = 4
    ui_enabled: bool = False
    cluster: SparkClusterTunables = SparkClusterTunables()


class LandTunables(Section):
    max_offsets_per_trigger: PositiveInt = 100_000
    trigger_interval: str = "250 milliseconds"
    # Relative to MOVIEPIPE_HOME (then /<database>/<topic prefix>).
    checkpoint_dir: Path = Path("checkpoints/land")
    driver_memory: str = "768m"
    fetch_max_wait_ms: int = Field(default=10, ge=0)


class FallbackTunables(Section):
    chunk_size: PositiveInt = 50_000


class CollectorTunables(Section):
    """The event collector (``moviepipe collect``, streaming/collector)."""

    # Where it listens (--host/--port override these).
    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=0, le=65535)
    # An array with more events is refused whole (413): one request, one bounded unit of work.
    max_batch_events: PositiveInt = 1000
    # A body over this is refused (413) before it is parsed; 100 ordinary events are ~30 KB.
    max_body_bytes: PositiveInt = 4 * 1024 * 1024
    # How long a request waits for Kafka's delivery reports before answering 503.
    delivery_timeout_s: PositiveFloat = 30
    # Loader-role connections for the dead letters; waiting longer for one answers 503.
    pool_max_size: PositiveInt = 2
    pool_timeout_s: PositiveFloat = 5


class StreamingTunables(Section):
    consumer_queue_kbytes: PositiveInt = 16384
    land: LandTunables = LandTunables()
    fallback: FallbackTunables = FallbackTunables()
    collector: CollectorTunables = CollectorTunables()


class PartitionTunables(Section):
    """Monthly partitions of the event tables (moviepipe/sql/007_partitions.sql)."""

    # Months after the current one that the loader keeps created ahead of the data.
    months_ahead: int = Field(default=3, ge=0, le=24)
    # `moviepipe retention apply` drops the partitions entirely older than this many months.
    retention_months: PositiveInt = 24


class OrchestrationTunables(Section):
    # Spark heartbeat older than this: the landing job is considered down.
    heartbeat_stale_after_s: PositiveFloat = 600
    # Minutes between two runs of the streaming_supervisor DAG.
    supervisor_every_min: PositiveInt = 5


class QualityTunables(Section):
    # Quality gates (docs/quality.md): at most this share of the last landing's messages
    # may be dead letters; a gold candidate may lose at most this share of any table's rows
    # against the published gold.
    max_dead_letter_share: float = Field(default=0.05, ge=0, le=1)
    max_row_loss_share: float = Field(default=0.1, ge=0, le=1)
    # Event timestamps before this are not sane (ISO date).
    min_event_date: str = "1990-01-01"
    # GX data docs: a directory under MOVIEPIPE_HOME.
    docs_dir: str = "docs/gx"


class ApiTunables(Section):
    """The REST API (serving/api): how it talks to PostgreSQL and its response cache
    (page sizes are part of the API: see serving/api/params.py)."""

    # One uvicorn worker, 10 concurrent clients in the benchmark: 4 connections keep
    # PostgreSQL busy without queueing in the pool (2 cores).
    pool_min_size: int = Field(default=4, ge=1)
    pool_max_size: int = Field(default=8, ge=1)
    # Waiting longer than this for a pooled connection answers 503, not a hung request.
    pool_timeout_s: float = Field(default=5.0, gt=0)
    # Every session is read-only and no statement runs longer than this.
    statement_timeout_ms: int = Field(default=3000, ge=1)
    # The publish's lock_timeout is 50 ms: a reader must never hold a transaction open.
    idle_in_transaction_timeout_ms: int = Field(default=5000, ge=1)
    # GET /api/... answers kept per published gold version (serving/api/cache.py); 0: off.
    response_cache_size: int = Field(default=4096, ge=0)
    # How often the published gold's version is read: the most a cached answer lags a publish.
    gold_check_interval_s: float = Field(default=0.5, gt=0)


class Tunables(Section):
    """The whole file; a section left out of the YAML takes its defaults."""

    postgres: PostgresTunables = PostgresTunables()
    kafka: KafkaTunables = KafkaTunables()
    mongo: MongoTunables = MongoTunables()
    tmdb: TmdbTunables = TmdbTunables()
    spark: SparkTunables = SparkTunables()
    streaming: StreamingTunables = StreamingTunables()
    partitions: PartitionTunables = PartitionTunables()
    orchestration: OrchestrationTunables = OrchestrationTunables()
    quality: QualityTunables = QualityTunables()
    api: ApiTunables = ApiTunables()


def describe_errors(source: str, exc: ValidationError) -> str:
    """One line per problem: ``<file>: <dotted.key>: <what is wrong>``."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        msg = err["msg"]
        lines.append(f"{source}: {key}: {msg[:1].lower()}{msg[1:]}")
    return "\n".join(lines)


def parse_tunables(data: Any, source: str = "tunables") -> Tunables:
    """Validate an already-loaded mapping (``None`` is an empty file)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of sections, got {type(data).__name__}")
    try:
        return Tunables.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_errors(source, exc)) from None


def load_tunables(path: Path, display: str | None = None) -> Tunables:
    """Read and validate the YAML file at ``path``; errors name ``display`` (default the path)."""
    source = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the tunables file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    return parse_tunables(data, source)
