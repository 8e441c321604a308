"""Pure Spark DataFrame functions: parse and validate Kafka records against the event contract.

The checks are the ordered lists of :mod:`moviepipe.events` turned into column
expressions (Spark 4 ``VARIANT``: ``try_parse_json`` + ``schema_of_variant``
tell a JSON string from a number from an object, which a typed ``from_json``
schema cannot). The first failing check names the reason, exactly as
:func:`moviepipe.events.check_event` does; ``tests/streaming`` proves they agree.

Usage::

    valid_df, rejected_df = spark_parse_validate(kafka_df, rules, topic_prefix="")
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from moviepipe.events import (
    ENVELOPE_FIELDS,
    MAX_BIGINT,
    NUL_ESCAPE_RE,
    PAYLOAD_FIELDS,
    REJECTED_COLUMNS,
    TS_RE,
    UUID_RE,
    VALID_COLUMNS,
)
from moviepipe.rules import Rules

INT_TYPES = ("BIGINT", "INT", "SMALLINT", "TINYINT")
# The Kafka source's columns, and an explicit schema for tests that build input by hand.
KAFKA_SCHEMA = (
    "key binary, value binary, topic string, partition int, offset bigint, timestamp timestamp"
)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _get(v: Column, path: str, as_type: str = "variant") -> Column:
    return F.try_variant_get(v, f"$.{path}", as_type)


def _key(path: str) -> str:
    return path.replace(".", "__")


PAYLOAD_TYPE = {
    f"payload.{name}": event_type
    for event_type, fields in PAYLOAD_FIELDS.items()
    for name, _, _ in fields
}


def _paths() -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, _ in ENVELOPE_FIELDS] + [
        (f"payload.{name}", kind) for fields in PAYLOAD_FIELDS.values() for name, kind, _ in fields
    ]


def _types(v: Column) -> list[Column]:
    """Each field's JSON type (first projection; the values are read by type afterwards).

    Payload fields are looked at only for their own event type.
    """
    etype = F.try_variant_get(v, "$.event_type", "string")
    text = F.col("value").cast("string")
    # Only a \u escape can put a NUL or a lone surrogate in a parsed string: re-serialise
    # just those documents (rare) to look for them.
    cols = [F.when(text.contains("\\u"), F.to_json(v)).alias("_json")]
    for path, _ in _paths():
        t = F.schema_of_variant(_get(v, path))
        event_type = PAYLOAD_TYPE.get(path)
        if event_type is not None:
            t = F.when(etype == event_type, t)
        cols.append(t.alias(f"_t_{_key(path)}"))
    return cols


def _values(v: Column) -> list[Column]:
    """Each field's value, read only when its type fits.

    Separate projections: the checks use these columns many times, and Spark does
    not inline non-trivial expressions used more than once. Reading a value only
    when the type fits also avoids failing casts, which are slow.
    """
    cols = []
    for path, kind in _paths():
        t = _t(path)
        if kind in {"number_ge0", "number_gt0", "rating"}:
            cols.append(F.when(_is_number(t), _get(v, path, "double")).alias(f"_d_{_key(path)}"))
        if kind != "object":
            cols.append(F.when(t == "STRING", _get(v, path, "string")).alias(f"_s_{_key(path)}"))
    ts = _s("event_ts")
    return [
        *cols,
        F.when(_t("movie_id").isin(*INT_TYPES), _get(v, "movie_id", "bigint")).alias("_n_movie_id"),
        F.when(ts.rlike(TS_RE), F.try_to_timestamp(ts)).alias("_ts"),
        F.when(_t("payload").startswith("OBJECT"), F.to_json(_get(v, "payload"))).alias("_payload"),
    ]


def _t(path: str) -> Column:
    return F.col(f"_t_{_key(path)}")


def _s(path: str) -> Column:
    return F.col(f"_s_{_key(path)}")


def _d(path: str) -> Column:
    return F.col(f"_d_{_key(path)}")


def _shown(path: str, kind: str) -> Column:
    """The offending value for a detail message, when it is a string."""
    if kind == "object":
        return F.coalesce(_t(path), F.lit(""))
    return F.coalesce(F.substring(_s(path), 1, 80), _t(path), F.lit(""))


def _is_number(t: Column) -> Column:
    return t.isin(*INT_TYPES, "DOUBLE", "FLOAT") | t.startswith("DECIMAL")


def _payload_ok(kind: str, path: str, rules: Rules) -> Column:
    ev = rules.events
    t, s, num = _t(path), _s(path), _d(path)
    if kind == "number_ge0":
        return _is_number(t) & (num >= 0)
    if kind == "number_gt0":
        return _is_number(t) & (num > 0)
    if kind == "click_target":
        return (t == "STRING") & s.isin(*ev.click_targets)
    if kind == "update_action":
        return (t == "STRING") & s.isin(*ev.movie_update_actions)
    if kind == "text":
        return (t == "STRING") & F.char_length(s).between(1, ev.comment_max_chars)
    if kind == "rating":
        return _is_number(t) & num.between(ev.rating_min, ev.rating_max)
    if kind == "object":
        return t.startswith("OBJECT")
    if kind == "string":
        return t == "STRING"
    raise AssertionError(kind)


def _checks(
    rules: Rules, now: datetime | None, topic_prefix: str
) -> list[tuple[Column, str, Column]]:
    """(failed, reason, detail) in the order of ``moviepipe.events._check``."""
    ev = rules.events
    value, topic, v = F.col("value"), F.col("topic"), F.col("_v")
    size = F.length(value)
    checks: list[tuple[Column, str, Column]] = [
        (value.isNull() | (size == 0), "not_json", F.lit("empty message")),
        (
            size > ev.max_message_bytes,
            "oversize",
            F.format_string(f"%d bytes > {ev.max_message_bytes}", size),
        ),
        (~F.col("_utf8"), "not_utf8", F.lit("invalid UTF-8 byte sequence")),
        (v.isNull(), "not_json", F.lit("not a JSON document")),
        (
            ~F.col("value").cast("string").rlike(r"^[ \t\r\n]*\{"),  # parsed, so an object
            "not_object",
            F.concat(F.lit("top level is "), F.substring(F.col("value").cast("string"), 1, 40)),
        ),
        (
            F.coalesce(
                F.col("_json").rlike(NUL_ESCAPE_RE) | ~F.is_valid_utf8(F.col("_json")),
                F.lit(False),
            ),
            "bad_unicode",
            F.lit("NUL character or lone surrogate in a string"),
        ),
    ]
    for name, kind, required in ENVELOPE_FIELDS:
        t, s = _t(name), _s(name)
        missing = t.isNull() | (t == "VOID")
        if kind == "uuid":
            ok = (t == "STRING") & s.rlike(UUID_RE)
        elif kind == "string":
            ok = (t == "STRING") & (F.length(s) > 0)
        elif kind == "timestamp":
            ok = F.col("_ts").isNotNull()  # a string of the right shape that parses
        elif kind == "id":
            n = F.col("_n_movie_id")
            ok = t.isin(*INT_TYPES) & (n > 0) & (n <= MAX_BIGINT)
        elif kind == "object":
            ok = t.startswith("OBJECT")
        else:
            raise AssertionError(kind)
        if required:
            checks.append((missing, f"missing_field:{name}", F.lit(f"{name} is missing or null")))
        checks.append(
            (
                ~missing & ~ok,
                f"bad_type:{name}",
                F.concat(F.lit(f"{name} is not a valid {kind}: "), _shown(name, kind)),
            )
        )
    etype = _s("event_type")
    expected_topic = F.create_map(
        *[
            x
            for t, name in ev.topic_by_event_type.items()
            for x in (F.lit(t), F.lit(topic_prefix + name))
        ]
    )[etype]
    # The clock is the record's Kafka timestamp, so a replay gives the same verdict; a
    # per-batch literal would also change the generated code and force a recompile.
    clock = (
        F.col("timestamp") if now is None else F.coalesce(F.col("timestamp"), F.lit(_aware(now)))
    )
    limit = F.unix_micros(clock) + ev.max_future_skew_seconds * 1_000_000
    checks += [
        (
            ~etype.isin(*ev.valid_event_types),
            "unknown_event_type",
            F.concat(F.lit("event_type "), F.substring(etype, 1, 80)),
        ),
        (
            topic.isNotNull() & (topic != expected_topic),
            "topic_mismatch",
            F.format_string("%s event on topic %s", etype, topic),
        ),
        (
            F.unix_micros(F.col("_ts")) > limit,
            "future_timestamp",
            F.lit("event_ts is after the Kafka timestamp + skew"),
        ),
    ]
    for event_type, fields in PAYLOAD_FIELDS.items():
        for name, kind, required in fields:
            path = f"payload.{name}"
            t = _t(path)
            missing = t.isNull() | (t == "VOID")
            bad = (F.lit(required) & missing) | (~missing & ~_payload_ok(kind, path, rules))
            checks.append(
                (
                    (etype == event_type) & bad,
                    f"bad_payload:{name}",
                    F.concat(F.lit(f"payload.{name} fails {kind}: "), _shown(path, kind)),
                )
            )
    return checks


def _stages(rules: Rules, now: datetime | None, topic_prefix: str) -> list[list[Column]]:
    """The projections of :func:`spark_classify`, built once per (rules, now, prefix).

    Building these few hundred column expressions through py4j takes a noticeable
    part of a small micro-batch, and Columns are not bound to a DataFrame: reuse them.
    """
    key = (id(rules), now, topic_prefix)
    if key in _STAGE_CACHE:
        return _STAGE_CACHE[key]
    text = F.col("value").cast("string")
    checks = _checks(rules, now, topic_prefix)
    first_failed = F.coalesce(
        *[F.when(failed, F.lit(i)) for i, (failed, _, _) in enumerate(checks)]
    )
    codes = F.array(*[F.lit(code) for _, code, _ in checks])
    details = [F.when(F.col("_check") == i, d) for i, (_, _, d) in enumerate(checks)]
    rejected = F.col("_check").isNotNull()
    stages = [
        [F.col("*"), F.is_valid_utf8(text).alias("_utf8")],
        [F.col("*"), F.when(F.col("_utf8"), F.try_parse_json(text)).alias("_v")],
        [F.col("*"), *_types(F.col("_v"))],
        [F.col("*"), *_values(F.col("_v"))],
        [F.col("*"), first_failed.alias("_check")],
        [
            F.lower(_s("event_id")).alias("event_id"),
            _s("event_type").alias("event_type"),
            F.col("_ts").alias("event_ts"),
            _s("user_id").alias("user_id"),
            _s("session_id").alias("session_id"),
            F.col("_n_movie_id").alias("movie_id"),
            F.col("_payload").alias("payload"),
            F.col("topic").alias("kafka_topic"),
            F.col("partition").alias("kafka_partition"),
            F.col("offset").alias("kafka_offset"),
            F.col("timestamp").alias("kafka_timestamp"),
            # the original bytes only where they are kept: half the data to collect
            F.when(rejected, F.col("key")).alias("raw_key"),
            F.when(rejected, F.col("value")).alias("raw_value"),
            F.when(rejected, F.element_at(codes, F.col("_check") + 1)).alias("reason"),
            F.coalesce(*details).alias("reason_detail"),
        ],
    ]
    if len(_STAGE_CACHE) > 8:
        _STAGE_CACHE.clear()
    _STAGE_CACHE[key] = stages
    return stages


_STAGE_CACHE: dict[tuple, list[list[Column]]] = {}


def spark_classify(
    df_kafka: DataFrame, rules: Rules, now: datetime | None = None, topic_prefix: str = ""
) -> DataFrame:
    """Every record with its typed envelope, ``reason`` (null when valid) and ``reason_detail``.

    One pass, so a streaming sink can collect a micro-batch once and split it.
    """
    df = df_kafka
    for stage in _stages(rules, now, topic_prefix):
        df = df.select(*stage)
    return df


def split_classified(classified: DataFrame) -> tuple[DataFrame, DataFrame]:
    valid = classified.where(F.col("reason").isNull()).select(*VALID_COLUMNS)
    rejected = classified.where(F.col("reason").isNotNull()).select(*REJECTED_COLUMNS)
    return valid, rejected


def spark_parse_validate(
    df_kafka: DataFrame, rules: Rules, now: datetime | None = None, topic_prefix: str = ""
) -> tuple[DataFrame, DataFrame]:
    """``(valid_df, rejected_df)`` with the columns of raw.user_events / raw.user_events_rejected.

    ``df_kafka`` has the Kafka source's columns (``key, value, topic, partition,
    offset, timestamp``). ``topic_prefix`` is the test prefix of topic names.
    The future-timestamp check measures from each record's Kafka ``timestamp``
    (``now`` only where it is null), as the pandas path does.
    """
    return split_classified(spark_classify(df_kafka, rules, now, topic_prefix))
