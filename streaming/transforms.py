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

from datetime import UTC, datetime, timedelta

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


def _vtype(v: Column, path: str) -> Column:
    return F.schema_of_variant(_get(v, path))


def _is_number(t: Column) -> Column:
    return t.isin(*INT_TYPES, "DOUBLE", "FLOAT") | t.startswith("DECIMAL")


def _payload_ok(kind: str, v: Column, path: str, rules: Rules) -> Column:
    ev = rules.events
    t = _vtype(v, path)
    num = _get(v, path, "double")
    s = _get(v, path, "string")
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
    value: Column, topic: Column, v: Column, rules: Rules, now: datetime, topic_prefix: str
) -> list[tuple[Column, str, Column]]:
    """(failed, reason, detail) in the order of ``moviepipe.events._check``."""
    ev = rules.events
    text = value.cast("string")
    size = F.length(value)
    checks: list[tuple[Column, str, Column]] = [
        (value.isNull() | (size == 0), "not_json", F.lit("empty message")),
        (
            size > ev.max_message_bytes,
            "oversize",
            F.format_string(f"%d bytes > {ev.max_message_bytes}", size),
        ),
        (~F.is_valid_utf8(text), "not_utf8", F.lit("invalid UTF-8 byte sequence")),
        (v.isNull(), "not_json", F.lit("not a JSON document")),
        (
            ~F.coalesce(F.schema_of_variant(v).startswith("OBJECT"), F.lit(False)),
            "not_object",
            F.concat(F.lit("top level is "), F.schema_of_variant(v)),
        ),
        (
            F.to_json(v).rlike(NUL_ESCAPE_RE) | ~F.is_valid_utf8(F.to_json(v)),
            "bad_unicode",
            F.lit("NUL character or lone surrogate in a string"),
        ),
    ]
    for name, kind, required in ENVELOPE_FIELDS:
        t = _vtype(v, name)
        s = _get(v, name, "string")
        missing = t.isNull() | (t == "VOID")
        if kind == "uuid":
            ok = (t == "STRING") & s.rlike(UUID_RE)
        elif kind == "string":
            ok = (t == "STRING") & (F.length(s) > 0)
        elif kind == "timestamp":
            ok = (t == "STRING") & s.rlike(TS_RE) & F.try_to_timestamp(s).isNotNull()
        elif kind == "id":
            n = _get(v, name, "bigint")
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
                F.concat(F.lit(f"{name} is not a valid {kind}: "), F.substring(s, 1, 80)),
            )
        )
    etype = _get(v, "event_type", "string")
    ts = F.try_to_timestamp(_get(v, "event_ts", "string"))
    expected_topic = F.create_map(
        *[
            x
            for t, name in ev.topic_by_event_type.items()
            for x in (F.lit(t), F.lit(topic_prefix + name))
        ]
    )[etype]
    # an aware datetime: pyspark converts it to an instant, whatever the local zone
    limit = _aware(now) + timedelta(seconds=ev.max_future_skew_seconds)
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
        (ts > F.lit(limit), "future_timestamp", F.lit("event_ts is after now + skew")),
    ]
    for event_type, fields in PAYLOAD_FIELDS.items():
        for name, kind, required in fields:
            path = f"payload.{name}"
            t = _vtype(v, path)
            missing = t.isNull() | (t == "VOID")
            bad = (F.lit(required) & missing) | (~missing & ~_payload_ok(kind, v, path, rules))
            checks.append(
                (
                    (etype == event_type) & bad,
                    f"bad_payload:{name}",
                    F.lit(f"payload.{name} is missing or fails {kind}"),
                )
            )
    return checks


def spark_classify(
    df_kafka: DataFrame, rules: Rules, now: datetime | None = None, topic_prefix: str = ""
) -> DataFrame:
    """Every record with its typed envelope, ``reason`` (null when valid) and ``reason_detail``.

    One pass, so a streaming sink can collect a micro-batch once and split it.
    """
    now = now or datetime.now(UTC)
    v = F.try_parse_json(F.col("value").cast("string"))
    checks = _checks(F.col("value"), F.col("topic"), F.col("_v"), rules, now, topic_prefix)
    reason = F.coalesce(*[F.when(failed, F.lit(code)) for failed, code, _ in checks])
    detail = F.coalesce(*[F.when(failed, d) for failed, _, d in checks])
    w = F.col("_v")
    return df_kafka.withColumn(
        "_v", F.when(F.is_valid_utf8(F.col("value").cast("string")), v)
    ).select(
        F.lower(_get(w, "event_id", "string")).alias("event_id"),
        _get(w, "event_type", "string").alias("event_type"),
        F.try_to_timestamp(_get(w, "event_ts", "string")).alias("event_ts"),
        _get(w, "user_id", "string").alias("user_id"),
        _get(w, "session_id", "string").alias("session_id"),
        _get(w, "movie_id", "bigint").alias("movie_id"),
        F.to_json(_get(w, "payload")).alias("payload"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        F.col("key").alias("raw_key"),
        F.col("value").alias("raw_value"),
        reason.alias("reason"),
        detail.alias("reason_detail"),
    )


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
    """
    return split_classified(spark_classify(df_kafka, rules, now, topic_prefix))
