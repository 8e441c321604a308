"""Spark's fast path: prove a message in the canonical form valid with one regex and one parse.

Most messages are in the canonical form the producer writes (compact JSON, the
contract's keys in the contract's order, no ``\\u`` escapes, no nested object
besides the payload: :func:`moviepipe.events.canonical_form_regex`). One anchored
regex proves the form, so every field's JSON type, no repeated, unknown or null
keys and nothing after the document; a typed ``from_json`` then gives the values,
and column comparisons apply the contract's rules. It may only accept: ``_fast``
is true for a message proved valid, false for anything else, which the exact
path (:mod:`streaming.spark_exact`) judges.

Usage::

    for projection in fast_stages(rules, now, topic_prefix):   # after _utf8 is set
        df = df.select(*projection)
    df.where("_fast").select(*[c.alias(n) for n, c in fast_values().items()])
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column
from pyspark.sql import functions as F

from moviepipe.events import (
    ENVELOPE_FIELDS,
    TS_RE,
    UUID_RE,
    canonical_form_regex,
    canonical_payload_fields,
)
from moviepipe.rules import Rules
from streaming.spark_columns import expected_topic, finite, latest_allowed_micros, text

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


def _form_regex() -> str:
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
        return finite(value) & (value >= 0)
    if kind == "number_gt0":
        return finite(value) & (value > 0)
    if kind == "rating":
        return finite(value) & value.between(ev.rating_min, ev.rating_max)
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
    ok = ok & (F.col("topic") == expected_topic(etype, rules, topic_prefix))
    ok = ok & (F.unix_micros(F.col("_f_ts")) <= latest_allowed_micros(rules, now))
    per_type = None
    for event_type, fields in _FAST_PAYLOAD.items():
        type_ok = F.lit(True)
        for name, kind, required in fields:
            v = e["payload"][name]
            field_ok = _fast_ok(kind, v, rules)
            type_ok = type_ok & (field_ok if required else (v.isNull() | field_ok))
        per_type = (F.when if per_type is None else per_type.when)(etype == event_type, type_ok)
    return F.coalesce(ok & per_type.otherwise(F.lit(False)), F.lit(False))


def fast_stages(rules: Rules, now: datetime | None, topic_prefix: str) -> list[list[Column]]:
    """The projections that set ``_fast`` (and the values of :func:`fast_values`)."""
    f_ts = F.col("_e")["event_ts"]
    return [
        [
            F.col("*"),
            F.from_json(text(), _fast_schema()).alias("_e"),
            F.regexp_extract(text(), _form_regex(), 1).alias("_f_payload"),
        ],
        [F.col("*"), F.when(f_ts.rlike(TS_RE), F.try_to_timestamp(f_ts)).alias("_f_ts")],
        [F.col("*"), _fast_checks(rules, now, topic_prefix).alias("_fast")],
    ]


def fast_values() -> dict[str, Column]:
    """The envelope's columns as the fast path reads them (meaningful where ``_fast``)."""
    e = F.col("_e")
    return {
        "event_id": F.lower(e["event_id"]),
        "event_type": e["event_type"],
        "event_ts": F.col("_f_ts"),
        "user_id": e["user_id"],
        "session_id": e["session_id"],
        "movie_id": e["movie_id"],
        "payload": F.col("_f_payload"),
    }
