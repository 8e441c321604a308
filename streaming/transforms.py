"""Pure Spark DataFrame functions: parse and validate Kafka records against the event contract.

The checks are the ordered lists of :mod:`moviepipe.events` turned into column
expressions (Spark 4 ``VARIANT``: ``try_parse_json`` + ``schema_of_variant``
tell a JSON string from a number from an object, which a typed ``from_json``
schema cannot). The first failing check names the reason, exactly as
:func:`moviepipe.events.check_event` does; ``tests/streaming`` proves they agree.

That exact path costs about 25 us a message. Most messages are in the canonical
form the producer writes (:func:`moviepipe.events.canonical_form_regex`), so a
fast path goes first (:func:`classify_batch`): the form's regex and one typed
``from_json`` prove a message valid. It may only accept, never reject: whatever
it cannot prove (spaced JSON, escapes, nested objects, anything odd) gets the
exact checks, which name the reason.

Usage::

    valid_df, rejected_df = spark_parse_validate(kafka_df, rules, topic_prefix="")
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
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
    canonical_form_regex,
    canonical_payload_fields,
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
    cols = [
        F.when(text.contains("\\u"), F.to_json(v)).alias("_json"),
        F.when(v.isNotNull(), _trailing_content(text, F.to_json(v))).alias("_trailing"),
    ]
    for path, _ in _paths():
        t = F.schema_of_variant(_get(v, path))
        event_type = PAYLOAD_TYPE.get(path)
        if event_type is not None:
            t = F.when(etype == event_type, t)
        cols.append(t.alias(f"_t_{_key(path)}"))
    return cols


# A JSON string, escapes included (unrolled and possessive: no backtracking stack on long text).
_STRING_RE = r'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_SCALAR_RE = r'^(""|-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?|true|false|null)$'


def _structure(json_text: Column) -> Column:
    """The text with every string emptied and JSON whitespace at both ends trimmed."""
    return F.regexp_replace(
        F.regexp_replace(json_text, _STRING_RE, '""'), r"^[ \t\r\n]+|[ \t\r\n]+$", ""
    )


def _trailing_content(text: Column, reserialised: Column) -> Column:
    """True when the text holds more than the one JSON value Spark parsed from it.

    ``parse_json`` stops after the first value and ignores the rest (``{..}{}``,
    ``{..} x``); Python's parser calls that "extra data". Strings emptied, the
    parsed value and its re-serialisation have the same count of ``{}[],:`` (key
    order and number format do not change them), so an object or array is alone
    when it ends the text and the counts agree; a scalar must be all the text.
    """
    ours, parsed = _structure(text), _structure(reserialised)

    def marks(c: Column) -> Column:
        return F.length(F.regexp_replace(c, r"[^{}\[\],:]", ""))

    container = ours.rlike(r"^[\[{]") & ours.rlike(r"[\]}]$") & (marks(ours) == marks(parsed))
    return ~(container | ours.rlike(_SCALAR_RE))


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


def _finite(num: Column) -> Column:
    # 1e400 parses to infinity; Python's json does the same and the contract refuses both.
    return ~F.isnan(num) & (F.abs(num) < F.lit(float("inf")))


def _payload_ok(kind: str, path: str, rules: Rules) -> Column:
    ev = rules.events
    t, s, num = _t(path), _s(path), _d(path)
    if kind == "number_ge0":
        return _is_number(t) & _finite(num) & (num >= 0)
    if kind == "number_gt0":
        return _is_number(t) & _finite(num) & (num > 0)
    if kind == "click_target":
        return (t == "STRING") & s.isin(*ev.click_targets)
    if kind == "update_action":
        return (t == "STRING") & s.isin(*ev.movie_update_actions)
    if kind == "text":
        return (t == "STRING") & F.char_length(s).between(1, ev.comment_max_chars)
    if kind == "rating":
        return _is_number(t) & _finite(num) & num.between(ev.rating_min, ev.rating_max)
    if kind == "object":
        return t.startswith("OBJECT")
    if kind == "string":
        return t == "STRING"
    raise AssertionError(kind)


def _expected_topic(etype: Column, rules: Rules, topic_prefix: str) -> Column:
    """The topic an event of type ``etype`` must arrive on."""
    pairs = rules.events.topic_by_event_type.items()
    return F.create_map(*[x for t, n in pairs for x in (F.lit(t), F.lit(topic_prefix + n))])[etype]


def _latest_allowed_micros(rules: Rules, now: datetime | None) -> Column:
    """The latest acceptable event_ts: the record's Kafka timestamp plus the allowed skew.

    The clock is the record's Kafka timestamp, so a replay gives the same verdict; a
    per-batch literal would also change the generated code and force a recompile.
    """
    clock = (
        F.col("timestamp") if now is None else F.coalesce(F.col("timestamp"), F.lit(_aware(now)))
    )
    return F.unix_micros(clock) + rules.events.max_future_skew_seconds * 1_000_000


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
        (
            v.isNull() | F.coalesce(F.col("_trailing"), F.lit(False)),
            "not_json",
            F.lit("not a JSON document"),
        ),
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
    expected_topic = _expected_topic(etype, rules, topic_prefix)
    limit = _latest_allowed_micros(rules, now)
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


# The fast path reads messages in the canonical form: compact JSON, the contract's keys
# in the contract's order, no \u escapes, no nested objects besides the payload. One
# anchored regex proves the form (so every field's JSON type, no repeated, unknown or
# null keys, nothing after the document); a typed from_json then gives the values.
_FAST_STR = r'"[^"\\]*+(?:\\[^u][^"\\]*+)*+"'
_FAST_NUM = r"-?(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?(?:[eE][+-]?[0-9]++)?"
_FAST_VALUE = {
    "uuid": _FAST_STR, "string": _FAST_STR, "timestamp": _FAST_STR, "id": r"[1-9][0-9]*+",
    "number_ge0": _FAST_NUM, "number_gt0": _FAST_NUM, "rating": _FAST_NUM,
    "click_target": _FAST_STR, "update_action": _FAST_STR, "text": _FAST_STR,
}  # fmt: skip
_FAST_TYPE = {
    "uuid": "string", "string": "string", "timestamp": "string", "id": "bigint",
    "number_ge0": "double", "number_gt0": "double", "rating": "double",
    "click_target": "string", "update_action": "string", "text": "string",
}  # fmt: skip
# Object-valued payload fields (movie_update's ``fields``) are left to the exact path.
_FAST_PAYLOAD = canonical_payload_fields(_FAST_VALUE)
_PAYLOAD_NAMES = tuple(dict.fromkeys(n for fs in _FAST_PAYLOAD.values() for n, _, _ in fs))
_PAYLOAD_KIND = {n: k for fs in _FAST_PAYLOAD.values() for n, k, _ in fs}


def fast_form_regex() -> str:
    """The canonical form in Java's regex dialect (possessive: no backtracking)."""
    return canonical_form_regex(_FAST_VALUE)


def _fast_schema() -> str:
    payload = ", ".join(f"{n} {_FAST_TYPE[_PAYLOAD_KIND[n]]}" for n in _PAYLOAD_NAMES)
    envelope = [
        f"{n} {_FAST_TYPE[k]}" if k != "object" else f"{n} struct<{payload}>"
        for n, k, _ in ENVELOPE_FIELDS
    ]
    return ", ".join(envelope)


def _fast_ok(kind: str, value: Column, rules: Rules) -> Column:
    """``value`` (typed by from_json, its JSON type proven by the form) meets ``kind``."""
    ev = rules.events
    if kind == "uuid":
        return value.rlike(UUID_RE)
    if kind == "string":
        return F.length(value) > 0
    if kind == "timestamp":
        return F.col("_f_ts").isNotNull()
    if kind == "id":
        return value > 0  # null when it does not fit a bigint
    if kind == "number_ge0":
        return _finite(value) & (value >= 0)
    if kind == "number_gt0":
        return _finite(value) & (value > 0)
    if kind == "rating":
        return _finite(value) & value.between(ev.rating_min, ev.rating_max)
    if kind == "click_target":
        return value.isin(*ev.click_targets)
    if kind == "update_action":
        return value.isin(*ev.movie_update_actions)
    if kind == "text":
        return F.char_length(value).between(1, ev.comment_max_chars)
    raise AssertionError(kind)


def _fast_checks(rules: Rules, now: datetime | None, topic_prefix: str) -> Column:
    """True only for a message in the canonical form that passes every check of the contract."""
    ev = rules.events
    value, e = F.col("value"), F.col("_e")
    ok = (F.col("_f_payload") != "") & F.col("_utf8") & (F.length(value) <= ev.max_message_bytes)
    for name, kind, required in ENVELOPE_FIELDS:
        if kind != "object":
            field_ok = _fast_ok(kind, e[name], rules)
            ok = ok & (field_ok if required else (e[name].isNull() | field_ok))
    etype = e["event_type"]
    ok = ok & etype.isin(*ev.valid_event_types)
    ok = ok & (F.col("topic") == _expected_topic(etype, rules, topic_prefix))
    ok = ok & (F.unix_micros(F.col("_f_ts")) <= _latest_allowed_micros(rules, now))
    per_type = None
    for event_type, fields in _FAST_PAYLOAD.items():
        type_ok = F.lit(True)
        for name, kind, required in fields:
            v = e["payload"][name]
            field_ok = _fast_ok(kind, v, rules)
            type_ok = type_ok & (field_ok if required else (v.isNull() | field_ok))
        per_type = (F.when if per_type is None else per_type.when)(etype == event_type, type_ok)
    return F.coalesce(ok & per_type.otherwise(F.lit(False)), F.lit(False))


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
    fast, e = F.col("_fast"), F.col("_e")
    f_ts = e["event_ts"]

    def either(fast_value: Column, exact_value: Column, name: str) -> Column:
        return F.when(fast, fast_value).otherwise(exact_value).alias(name)

    stages = [
        [
            F.col("*"),
            F.is_valid_utf8(text).alias("_utf8"),
            F.from_json(text, _fast_schema()).alias("_e"),
            F.regexp_extract(text, fast_form_regex(), 1).alias("_f_payload"),
        ],
        [F.col("*"), F.when(f_ts.rlike(TS_RE), F.try_to_timestamp(f_ts)).alias("_f_ts")],
        [F.col("*"), _fast_checks(rules, now, topic_prefix).alias("_fast")],
        # The exact path parses only what the fast path could not prove.
        [F.col("*"), F.when(F.col("_utf8") & ~fast, F.try_parse_json(text)).alias("_v")],
        [F.col("*"), *_types(F.col("_v"))],
        [F.col("*"), *_values(F.col("_v"))],
        [F.col("*"), F.when(~fast, first_failed).alias("_check")],
        [
            either(F.lower(e["event_id"]), F.lower(_s("event_id")), "event_id"),
            either(e["event_type"], _s("event_type"), "event_type"),
            either(F.col("_f_ts"), F.col("_ts"), "event_ts"),
            either(e["user_id"], _s("user_id"), "user_id"),
            either(e["session_id"], _s("session_id"), "session_id"),
            either(e["movie_id"], F.col("_n_movie_id"), "movie_id"),
            either(F.col("_f_payload"), F.col("_payload"), "payload"),
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
    # The fast path alone (classify_batch): its values are meaningful only where _fast is
    # true; the other records keep their Kafka columns for the exact path.
    fast_only = [
        F.lower(e["event_id"]).alias("event_id"),
        e["event_type"].alias("event_type"),
        F.col("_f_ts").alias("event_ts"),
        e["user_id"].alias("user_id"),
        e["session_id"].alias("session_id"),
        e["movie_id"].alias("movie_id"),
        F.col("_f_payload").alias("payload"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        F.when(~fast, F.col("key")).alias("_key"),
        F.when(~fast, F.col("value")).alias("_value"),
        fast.alias("_fast"),
    ]
    stages = [*stages, fast_only]
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
    for stage in _stages(rules, now, topic_prefix)[:-1]:
        df = df.select(*stage)
    return df


def spark_fast_classify(
    df_kafka: DataFrame, rules: Rules, now: datetime | None = None, topic_prefix: str = ""
) -> DataFrame:
    """The fast path alone: the valid-event columns where ``_fast`` (proved valid) is true,
    and ``_key``/``_value`` where it is false, for :func:`spark_classify` to judge."""
    stages = _stages(rules, now, topic_prefix)
    df = df_kafka
    for stage in [*stages[:3], stages[-1]]:
        df = df.select(*stage)
    return df


CLASSIFIED_COLUMNS = (*VALID_COLUMNS, "raw_key", "raw_value", "reason", "reason_detail")


def classify_batch(
    df_kafka: DataFrame, rules: Rules, now: datetime | None = None, topic_prefix: str = ""
) -> pa.Table:
    """A micro-batch classified, collected as Arrow: the columns of :func:`spark_classify`.

    Two Spark jobs instead of one: the fast path over every record, then the exact
    checks over only the records it could not prove valid (usually none, so the
    exact path costs neither its per-record work nor, most batches, its code generation).
    """
    table = spark_fast_classify(df_kafka, rules, now, topic_prefix).toArrow()
    fast = table.column("_fast")
    done = table.filter(fast).select(list(VALID_COLUMNS))
    n = done.num_rows
    done = (
        done.append_column("raw_key", pa.nulls(n, pa.binary()))
        .append_column("raw_value", pa.nulls(n, pa.binary()))
        .append_column("reason", pa.nulls(n, pa.string()))
        .append_column("reason_detail", pa.nulls(n, pa.string()))
    )
    rest = table.filter(pc.invert(fast))
    if rest.num_rows == 0:
        return done
    records = rest.select(
        ["_key", "_value", "kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp"]
    ).rename_columns(["key", "value", "topic", "partition", "offset", "timestamp"])
    exact = spark_classify(
        df_kafka.sparkSession.createDataFrame(records, KAFKA_SCHEMA), rules, now, topic_prefix
    ).toArrow()
    return pa.concat_tables([done.cast(exact.schema), exact])


def fast_path_taken(
    df_kafka: DataFrame, rules: Rules, now: datetime | None = None, topic_prefix: str = ""
) -> DataFrame:
    """``topic, partition, offset, fast``: the records the fast path proved valid (for tests)."""
    df = df_kafka
    for stage in _stages(rules, now, topic_prefix)[:3]:
        df = df.select(*stage)
    return df.select("topic", "partition", "offset", F.col("_fast").alias("fast"))


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
