"""Spark's exact path: the contract's ordered checks as column expressions.

Spark 4's ``VARIANT`` (``try_parse_json`` + ``schema_of_variant``) tells a JSON
string from a number from an object, which a typed ``from_json`` schema cannot.
Each check of :mod:`moviepipe.events.reference` becomes a ``(failed, reason,
detail)`` triple in the same order; the first that fails names the reason, and
the detail takes its words from :mod:`moviepipe.events.details`. It judges the
records the fast path (:mod:`streaming.spark_fast`) could not prove valid
(``_fast`` false), about 25 us a message.

Usage::

    stages, values = exact_path(rules, now, topic_prefix)   # after _utf8 and _fast are set
    for projection in stages:
        df = df.select(*projection)
    df.select(*[c.alias(n) for n, c in values.items()])    # envelope, reason, reason_detail
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column
from pyspark.sql import functions as F

from moviepipe.events import (
    ENVELOPE_FIELDS,
    MAX_BIGINT,
    NUL_ESCAPE_RE,
    PAYLOAD_FIELDS,
    TS_RE,
    UUID_RE,
    details,
)
from moviepipe.rules import Rules
from streaming.spark_columns import (
    INT_TYPES,
    expected_topic,
    finite,
    is_number,
    latest_allowed_micros,
    text,
)

_PAYLOAD_TYPE = {
    f"payload.{name}": event_type
    for event_type, fields in PAYLOAD_FIELDS.items()
    for name, _, _ in fields
}
_PATHS = [(name, kind) for name, kind, _ in ENVELOPE_FIELDS] + [
    (f"payload.{name}", kind) for fields in PAYLOAD_FIELDS.values() for name, kind, _ in fields
]
# A JSON string, escapes included (unrolled and possessive: no backtracking stack on long text).
_STRING_RE = r'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_SCALAR_RE = r'^(""|-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?|true|false|null)$'
# parse_json keeps 603.0 as DECIMAL(3,0), an integer type name for a number written with a fraction.
_WHOLE_DECIMAL_RE = r"^DECIMAL\(\d+,0\)$"


def _get(path: str, as_type: str = "variant") -> Column:
    return F.try_variant_get(F.col("_v"), f"$.{path}", as_type)


def _key(path: str) -> str:
    return path.replace(".", "__")


def _t(path: str) -> Column:
    return F.col(f"_t_{_key(path)}")


def _s(path: str) -> Column:
    return F.col(f"_s_{_key(path)}")


def _d(path: str) -> Column:
    return F.col(f"_d_{_key(path)}")


def _types() -> list[Column]:
    """Each field's JSON type (first projection; the values are read by type afterwards).

    Payload fields are looked at only for their own event type.
    """
    v = F.col("_v")
    etype = _get("event_type", "string")
    # Only a \u escape can put a NUL or a lone surrogate in a parsed string: re-serialise
    # just those documents (rare) to look for them.
    cols = [
        F.when(text().contains("\\u"), F.to_json(v)).alias("_json"),
        F.when(v.isNotNull(), _trailing_content(text(), F.to_json(v))).alias("_trailing"),
    ]
    for path, _ in _PATHS:
        t = F.schema_of_variant(_get(path))
        event_type = _PAYLOAD_TYPE.get(path)
        if event_type is not None:
            t = F.when(etype == event_type, t)
        cols.append(t.alias(f"_t_{_key(path)}"))
    return cols


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


def _values() -> list[Column]:
    """Each field's value, read only when its type fits.

    Separate projections: the checks use these columns many times, and Spark does
    not inline non-trivial expressions used more than once. Reading a value only
    when the type fits also avoids failing casts, which are slow.
    """
    cols = []
    for path, kind in _PATHS:
        t = _t(path)
        if kind in {"number_ge0", "number_gt0", "rating"}:
            cols.append(F.when(is_number(t), _get(path, "double")).alias(f"_d_{_key(path)}"))
        if kind != "object":
            cols.append(F.when(t == "STRING", _get(path, "string")).alias(f"_s_{_key(path)}"))
    ts = _s("event_ts")
    return [
        *cols,
        F.when(_t("movie_id").isin(*INT_TYPES), _get("movie_id", "bigint")).alias("_n_movie_id"),
        F.when(ts.rlike(TS_RE), F.try_to_timestamp(ts)).alias("_ts"),
        F.when(_t("payload").startswith("OBJECT"), F.to_json(_get("payload"))).alias("_payload"),
    ]


def _payload_ok(kind: str, path: str, rules: Rules) -> Column:
    ev = rules.events
    t, s, num = _t(path), _s(path), _d(path)
    if kind == "number_ge0":
        return is_number(t) & finite(num) & (num >= 0)
    if kind == "number_gt0":
        return is_number(t) & finite(num) & (num > 0)
    if kind == "click_target":
        return (t == "STRING") & s.isin(*ev.click_targets)
    if kind == "update_action":
        return (t == "STRING") & s.isin(*ev.movie_update_actions)
    if kind == "text":
        return (t == "STRING") & F.char_length(s).between(1, ev.comment_max_chars)
    if kind == "rating":
        return is_number(t) & finite(num) & num.between(ev.rating_min, ev.rating_max)
    if kind == "object":
        return t.startswith("OBJECT")
    if kind == "string":
        return t == "STRING"
    raise AssertionError(kind)


# ---- reason_detail: the same decisions as moviepipe.events.reference._describe ---------


def _shown(path: str) -> Column:
    """The value as the reference shows it: compact JSON, cut to details.SHOWN_CHARS."""
    j = F.to_json(_get(path))
    whole = _get(path, "decimal(38,0)")
    refloat = _t(path).rlike(_WHOLE_DECIMAL_RE) & (F.abs(whole) < 10**16)  # Python: 603.0
    j = F.when(refloat, F.concat(j, F.lit(".0"))).otherwise(j)
    cut = F.concat(F.substring(j, 1, details.SHOWN_CHARS - 1), F.lit(details.ELLIPSIS))
    return F.when(F.char_length(j) > details.SHOWN_CHARS, cut).otherwise(j)


def _type_phrase(t: Column) -> Column:
    phrase = details.TYPE_PHRASE
    return (
        F.when(t == "STRING", phrase["string"])
        .when(t.startswith("OBJECT"), phrase["object"])
        .when(t.startswith("ARRAY"), phrase["array"])
        .when(t == "BOOLEAN", phrase["boolean"])
        .when(t == "VOID", phrase["null"])
        .otherwise(phrase["number"])
    )


def _describe(path: str, kind: str, rules: Rules) -> Column:
    """The detail for a value that fails ``kind``: its JSON type, else the rule it breaks."""
    ev = rules.events
    t, value = _t(path), _shown(path)
    expected = details.EXPECTED_TYPE[kind]
    whole = _get(path, "decimal(38,0)")
    if expected == "integer":  # a whole DECIMAL beyond a bigint is an integer out of range
        type_ok = t.isin(*INT_TYPES) | (t.rlike(_WHOLE_DECIMAL_RE) & (F.abs(whole) > MAX_BIGINT))
    elif expected == "number":
        type_ok = is_number(t)
    elif expected == "string":
        type_ok = t == "STRING"
    else:
        type_ok = t.startswith("OBJECT")
    wrong = F.format_string(details.wrong_type(path, kind), value, _type_phrase(t))

    def bad(problem: str) -> Column:
        return F.format_string(details.bad_value(path, kind, problem, rules), value)

    if not details.problems(kind, rules) or (kind == "string" and path.startswith("payload.")):
        return wrong
    s = _s(path) if kind != "id" else None
    if kind in {"uuid", "string", "click_target", "update_action"}:
        problem = bad({"uuid": "format", "string": "empty"}.get(kind, "unknown"))
    elif kind == "timestamp":
        problem = F.when(s.rlike(TS_RE), bad("invalid")).otherwise(bad("format"))
    elif kind == "text":
        problem = F.when(F.char_length(s) == 0, bad("empty")).otherwise(bad("too_long"))
    elif kind == "id":
        problem = F.when(whole < 1, bad("below")).otherwise(bad("above"))
    else:
        num = _d(path)
        problem = F.when(~finite(num), bad("not_finite"))
        if kind == "rating":
            problem = problem.when(num < ev.rating_min, bad("below")).otherwise(bad("above"))
        else:
            problem = problem.otherwise(bad("below"))
    return F.when(~type_ok, wrong).otherwise(problem)


def _missing(path: str, event_type: str | None = None) -> Column:
    null = details.missing(path, null=True, event_type=event_type)
    return F.when(_t(path) == "VOID", null).otherwise(
        details.missing(path, null=False, event_type=event_type)
    )


def _top_level_phrase() -> Column:
    """The JSON type of a parsed document that is not an object, from its first character."""
    first = F.regexp_extract(text(), r"^[ \t\r\n]*(.)", 1)
    phrase = details.TYPE_PHRASE
    return (
        F.when(first == "[", phrase["array"])
        .when(first == '"', phrase["string"])
        .when(first.isin("t", "f"), phrase["boolean"])
        .when(first == "n", phrase["null"])
        .otherwise(phrase["number"])
    )


# ---- the ordered checks ----------------------------------------------------------------


def _decoding_checks(rules: Rules) -> list[tuple[Column, str, Column]]:
    ev = rules.events
    value, v = F.col("value"), F.col("_v")
    size = F.length(value)
    not_json = details.NOT_JSON % "a syntax error, NaN or Infinity, or a key given twice"
    trailing = details.NOT_JSON % "content after the JSON document"
    return [
        (
            value.isNull() | (size == 0),
            "not_json",
            F.when(value.isNull(), details.TOMBSTONE).otherwise(details.EMPTY),
        ),
        (size > ev.max_message_bytes, "oversize", F.format_string(details.oversize(rules), size)),
        (~F.col("_utf8"), "not_utf8", F.lit(details.NOT_UTF8 % "an invalid byte sequence")),
        (
            v.isNull() | F.coalesce(F.col("_trailing"), F.lit(False)),
            "not_json",
            F.when(v.isNull(), not_json).otherwise(trailing),
        ),
        (
            ~text().rlike(r"^[ \t\r\n]*\{"),  # parsed, so an object
            "not_object",
            F.format_string(details.NOT_OBJECT, _top_level_phrase()),
        ),
        (
            F.coalesce(
                F.col("_json").rlike(NUL_ESCAPE_RE) | ~F.is_valid_utf8(F.col("_json")),
                F.lit(False),
            ),
            "bad_unicode",
            F.when(~F.is_valid_utf8(F.col("_json")), details.SURROGATE).otherwise(details.NUL),
        ),
    ]


def _envelope_ok(kind: str, name: str) -> Column:
    t, s = _t(name), _s(name)
    if kind == "uuid":
        return (t == "STRING") & s.rlike(UUID_RE)
    if kind == "string":
        return (t == "STRING") & (F.length(s) > 0)
    if kind == "timestamp":
        return F.col("_ts").isNotNull()  # a string of the right shape that parses
    if kind == "id":
        n = F.col("_n_movie_id")
        return t.isin(*INT_TYPES) & (n > 0) & (n <= MAX_BIGINT)
    if kind == "object":
        return t.startswith("OBJECT")
    raise AssertionError(kind)


def _checks(
    rules: Rules, now: datetime | None, topic_prefix: str
) -> list[tuple[Column, str, Column]]:
    """(failed, reason, detail) in the order of ``moviepipe.events.reference``."""
    ev = rules.events
    topic = F.col("topic")
    checks = _decoding_checks(rules)
    for name, kind, required in ENVELOPE_FIELDS:
        t = _t(name)
        missing = t.isNull() | (t == "VOID")
        if required:
            checks.append((missing, f"missing_field:{name}", _missing(name)))
        ok = _envelope_ok(kind, name)
        checks.append((~missing & ~ok, f"bad_type:{name}", _describe(name, kind, rules)))
    etype = _s("event_type")
    expected = expected_topic(etype, rules, topic_prefix)
    checks += [
        (
            ~etype.isin(*ev.valid_event_types),
            "unknown_event_type",
            F.format_string(details.unknown_event_type(rules), _shown("event_type")),
        ),
        (
            topic.isNotNull() & (topic != expected),
            "topic_mismatch",
            F.format_string(details.TOPIC_MISMATCH, etype, topic, expected),
        ),
        (
            F.unix_micros(F.col("_ts")) > latest_allowed_micros(rules, now),
            "future_timestamp",
            F.format_string(details.future_timestamp(rules), _shown("event_ts")),
        ),
    ]
    for event_type, fields in PAYLOAD_FIELDS.items():
        for name, kind, required in fields:
            path = f"payload.{name}"
            t = _t(path)
            missing = t.isNull() | (t == "VOID")
            bad = ~missing & ~_payload_ok(kind, path, rules)
            failed = (etype == event_type) & ((F.lit(required) & missing) | bad)
            detail = F.when(bad, _describe(path, kind, rules)).otherwise(_missing(path, event_type))
            checks.append((failed, f"bad_payload:{name}", detail))
    return checks


def exact_path(
    rules: Rules, now: datetime | None, topic_prefix: str
) -> tuple[list[list[Column]], dict[str, Column]]:
    """The projections that set ``_check`` (the first failed check) where ``_fast`` is
    false, and the output columns read from them: the envelope, reason, reason_detail."""
    checks = _checks(rules, now, topic_prefix)
    first_failed = F.coalesce(
        *[F.when(failed, F.lit(i)) for i, (failed, _, _) in enumerate(checks)]
    )
    codes = F.array(*[F.lit(code) for _, code, _ in checks])
    check = F.col("_check")
    stages = [
        # The exact path parses only what the fast path could not prove.
        [
            F.col("*"),
            F.when(F.col("_utf8") & ~F.col("_fast"), F.try_parse_json(text())).alias("_v"),
        ],
        [F.col("*"), *_types()],
        [F.col("*"), *_values()],
        [F.col("*"), F.when(~F.col("_fast"), first_failed).alias("_check")],
    ]
    values = {
        "event_id": F.lower(_s("event_id")),
        "event_type": _s("event_type"),
        "event_ts": F.col("_ts"),
        "user_id": _s("user_id"),
        "session_id": _s("session_id"),
        "movie_id": F.col("_n_movie_id"),
        "payload": F.col("_payload"),
        "reason": F.when(check.isNotNull(), F.element_at(codes, check + 1)),
        # evaluated only for the failed check of a rejected record
        "reason_detail": F.coalesce(*[F.when(check == i, d) for i, (_, _, d) in enumerate(checks)]),
    }
    return stages, values
