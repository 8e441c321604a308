"""The front-end event contract, in one place: envelope, payloads, reasons.

Every Kafka message on the four event topics is one UTF-8 JSON object::

    {"event_id": "<uuid>", "event_type": "watch", "event_ts": "2024-05-01T20:15:00+02:00",
     "user_id": "42", "session_id": "s-1", "movie_id": 603, "payload": {...}}

The rules (valid event types, click targets, rating range, size and clock-skew
limits, topic per type) come from ``transform_rules.json``. The checks are an
ordered list (:data:`ENVELOPE_FIELDS`, :data:`PAYLOAD_FIELDS`): the first
failing check gives the rejection reason, a short stable code such as
``not_json`` or ``bad_payload:rating``. ``streaming.transforms`` (Spark) and
``streaming.pandas_transforms`` (pandas) implement the same ordered checks, and
the tests prove they agree with :func:`check_event`, the reference.

Usage::

    from moviepipe.events import validate_event, json_schema
    event, reason = validate_event(raw_bytes, now=now, rules=rules, topic="user_watch_log")
    python -m moviepipe.events > docs/events.schema.json   # publish the JSON Schema
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from moviepipe.rules import Rules, load_rules

UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# ISO-8601 with a mandatory offset, at most microsecond precision (what Postgres keeps).
TS_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
# A JSON-escaped NUL (not an escaped backslash followed by "u0000"): jsonb refuses it.
NUL_ESCAPE_RE = r"(^|[^\\])(\\\\)*\\u0000"
MAX_BIGINT = 2**63 - 1

# Envelope fields in check order: (name, kind, required).
ENVELOPE_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("event_id", "uuid", True),
    ("event_type", "string", True),
    ("event_ts", "timestamp", True),
    ("user_id", "string", True),
    ("session_id", "string", False),
    ("movie_id", "id", True),
    ("payload", "object", True),
)
# Payload fields per event type in check order: (name, kind, required).
# Kinds: number_ge0, number_gt0, click_target, text, rating, update_action, object, string.
PAYLOAD_FIELDS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "watch": (
        ("position_s", "number_ge0", True),
        ("duration_s", "number_gt0", True),
        ("watched_s", "number_ge0", True),
    ),
    "click": (("target", "click_target", True), ("page", "string", False)),
    "comment": (
        ("comment_id", "string", False),
        ("text", "text", True),
        ("rating", "rating", False),
    ),
    "movie_update": (("action", "update_action", True), ("fields", "object", False)),
}

VALID_COLUMNS = (
    "event_id",
    "event_type",
    "event_ts",
    "user_id",
    "session_id",
    "movie_id",
    "payload",
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "kafka_timestamp",
)
REJECTED_COLUMNS = (
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "kafka_timestamp",
    "raw_key",
    "raw_value",
    "reason",
    "reason_detail",
)


def canonical_payload_fields(kinds: Iterable[str]) -> dict[str, tuple[tuple[str, str, bool], ...]]:
    """Per event type, the payload fields whose kind is in ``kinds`` (the rest never are
    in the canonical form)."""
    kinds = set(kinds)
    return {t: tuple(f for f in fs if f[1] in kinds) for t, fs in PAYLOAD_FIELDS.items()}


def _canonical_pairs(fields: Iterable[tuple[str, str, bool]], values: Mapping[str, str]) -> str:
    """``"a":<v>,"b":<v>`` in contract order, optional fields possibly absent."""
    fields = tuple(fields)
    first = next(i for i, f in enumerate(fields) if f[2])  # every type has a required field
    out = []
    for i, (name, kind, required) in enumerate(fields):
        pair = f'"{name}":{values[kind]}'
        if i < first:
            out.append(f"(?:{pair},)?")
        elif i == first:
            out.append(pair)
        else:
            out.append(f",{pair}" if required else f"(?:,{pair})?")
    return "".join(out)


def canonical_form_regex(values: Mapping[str, str]) -> str:
    """An anchored regular expression for the **canonical form** of an event.

    Compact JSON (what :mod:`streaming.producer` writes), the envelope's keys in the
    order of :data:`ENVELOPE_FIELDS`, then the payload fields of one event type in
    the order of :data:`PAYLOAD_FIELDS`; optional fields absent rather than null; no
    object besides the payload. ``values`` maps each field kind to the pattern of
    its JSON value (so the engine's dialect and how strict a value must be are the
    caller's). A match proves every field's JSON type and rules out repeated,
    unknown or null keys and anything after the document; the payload object is
    group 1. The fast paths accept only such messages (docs/events.md).
    """
    envelope = _canonical_pairs((f for f in ENVELOPE_FIELDS if f[1] != "object"), values)
    payloads = "|".join(
        f"(?:{_canonical_pairs(fs, values)})" for fs in canonical_payload_fields(values).values()
    )
    return r"\A\{" + envelope + r',"payload":(\{(?:' + payloads + r")\})\}\z"


class Verdict(NamedTuple):
    event: dict[str, Any] | None
    reason: str | None
    detail: str | None


class _Reject(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")  # Spark's parse_json refuses them too
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


_TS = re.compile(TS_RE)
_UUID = re.compile(UUID_RE)


def parse_ts(value: str) -> datetime | None:
    if not _TS.match(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _check_payload_field(kind: str, v: Any, rules: Rules) -> bool:
    ev = rules.events
    if kind == "number_ge0":
        return _is_number(v) and v >= 0
    if kind == "number_gt0":
        return _is_number(v) and v > 0
    if kind == "click_target":
        return isinstance(v, str) and v in ev.click_targets
    if kind == "update_action":
        return isinstance(v, str) and v in ev.movie_update_actions
    if kind == "text":
        return isinstance(v, str) and 1 <= len(v) <= ev.comment_max_chars
    if kind == "rating":
        return _is_number(v) and ev.rating_min <= v <= ev.rating_max
    if kind == "object":
        return isinstance(v, dict)
    if kind == "string":
        return isinstance(v, str)
    raise AssertionError(kind)


def topic_for(event_type: str, rules: Rules, topic_prefix: str = "") -> str:
    return topic_prefix + rules.events.topic_by_event_type[event_type]


def _decode(raw: bytes | None, rules: Rules) -> tuple[str, dict[str, Any]]:
    """The message as text and a JSON object, or the first decoding reason."""
    ev = rules.events
    if raw is None or len(raw) == 0:
        raise _Reject("not_json", "empty message")
    if len(raw) > ev.max_message_bytes:
        raise _Reject("oversize", f"{len(raw)} bytes > {ev.max_message_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Reject("not_utf8", str(exc)) from None
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise _Reject("not_json", str(exc)[:200]) from None
    if not isinstance(doc, dict):
        raise _Reject("not_object", f"top level is {type(doc).__name__}")
    if "\\u" in text:
        # Only a \u escape can produce a NUL or a lone surrogate, which jsonb refuses.
        try:
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
            has_lone_surrogate = False
        except UnicodeEncodeError:
            has_lone_surrogate = True
        if has_lone_surrogate or re.search(NUL_ESCAPE_RE, json.dumps(doc)):
            raise _Reject("bad_unicode", "NUL character or lone surrogate in a string")
    return text, doc


# JSON's own whitespace and more: every key token ends with a match, so
# ``matches == keys parsed`` proves that no key was given twice.
_KEY_END = re.compile(r'"\s*:')
_PLAIN_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _n_keys(value: Any) -> int:
    """Keys in all the objects of a parsed document (plain loops: the fallback's hot path)."""
    if type(value) is dict:
        n = len(value)
        for v in value.values():
            if type(v) is dict or type(v) is list:
                n += _n_keys(v)
        return n
    n = 0
    for v in value:
        if type(v) is dict or type(v) is list:
            n += _n_keys(v)
    return n


def _decode_fast(raw: bytes | None, rules: Rules) -> dict[str, Any] | None:
    """The JSON object of an ordinary message, or None to defer to :func:`_decode`.

    The C parser without a per-object hook is about 3x faster; it keeps the last of
    duplicate keys, so a key count (an upper bound from the text) must equal the
    keys parsed. Anything unusual (a ``\\u`` escape, a parse error, not an object,
    a count that differs) returns None and gets the full decode, which names the reason.
    """
    if not raw or len(raw) > rules.events.max_message_bytes:
        return None
    try:
        text = raw.decode("utf-8")
        if "\\u" in text:
            return None
        doc = _PLAIN_DECODER.decode(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    payload = doc.get("payload")
    if "[" not in text and text.count("{") == 2 and type(payload) is dict:
        n = len(doc) + len(payload)  # no lists, two braces: the envelope and the payload only
    else:
        n = _n_keys(doc)
    quick = text.count('":')
    if (
        quick == n
        and '" ' not in text
        and '"\t' not in text
        and '"\n' not in text
        and '"\r' not in text
    ):
        return doc
    return doc if len(_KEY_END.findall(text)) == n else None


def _check(
    raw: bytes | None, now: datetime, rules: Rules, topic: str | None, topic_prefix: str
) -> dict[str, Any]:
    doc = _decode_fast(raw, rules)
    if doc is None:
        _, doc = _decode(raw, rules)
    return _check_doc(doc, now, rules, topic, topic_prefix)


def _check_doc(
    doc: dict[str, Any], now: datetime, rules: Rules, topic: str | None, topic_prefix: str
) -> dict[str, Any]:
    out = _accept_common(doc, now, rules, topic, topic_prefix)
    return out if out is not None else _check_doc_in_order(doc, now, rules, topic, topic_prefix)


def _accept_common(
    doc: dict[str, Any], now: datetime, rules: Rules, topic: str | None, topic_prefix: str
) -> dict[str, Any] | None:
    """The typed envelope when ``doc`` passes every check, else None (then the ordered checks
    name the first failure).

    The same checks as :func:`_check_doc_in_order`, unrolled (the fallback's hot path, about
    half the time of the generic loop). Exact types only (``type(v) is str``): anything
    unusual returns None and gets the ordered checks, so this can accept less, never more.
    """
    ev = rules.events
    event_id = doc.get("event_id")
    if type(event_id) is not str or _UUID.match(event_id) is None:
        return None
    event_type = doc.get("event_type")
    if type(event_type) is not str or not event_type:
        return None
    event_ts = doc.get("event_ts")
    ts = parse_ts(event_ts) if type(event_ts) is str else None
    if ts is None:
        return None
    user_id = doc.get("user_id")
    if type(user_id) is not str or not user_id:
        return None
    session_id = doc.get("session_id")
    if session_id is not None and (type(session_id) is not str or not session_id):
        return None
    movie_id = doc.get("movie_id")
    if type(movie_id) is not int or not 0 < movie_id <= MAX_BIGINT:
        return None
    payload = doc.get("payload")
    if type(payload) is not dict or event_type not in ev.valid_event_types:
        return None
    if topic is not None and topic != topic_prefix + ev.topic_by_event_type[event_type]:
        return None
    if ts > now + timedelta(seconds=ev.max_future_skew_seconds):
        return None
    for name, kind, required in PAYLOAD_FIELDS[event_type]:
        v = payload.get(name)
        if v is None:
            if required:
                return None
        elif not _check_payload_field(kind, v, rules):
            return None
    return {
        "event_id": event_id.lower(),
        "event_type": event_type,
        "event_ts": ts,
        "user_id": user_id,
        "session_id": session_id,
        "movie_id": movie_id,
        "payload": payload,
    }


def _check_doc_in_order(
    doc: dict[str, Any], now: datetime, rules: Rules, topic: str | None, topic_prefix: str
) -> dict[str, Any]:
    ev = rules.events
    out: dict[str, Any] = {}
    for name, kind, required in ENVELOPE_FIELDS:
        v = doc.get(name)
        if v is None:
            if required:
                raise _Reject(f"missing_field:{name}", f"{name} is missing or null")
            out[name] = None
            continue
        ok = True
        if kind == "uuid":
            ok = isinstance(v, str) and _UUID.match(v) is not None
            v = v.lower() if ok else v
        elif kind == "string":
            ok = isinstance(v, str) and len(v) > 0
        elif kind == "timestamp":
            ts = parse_ts(v) if isinstance(v, str) else None
            ok = ts is not None
            v = ts
        elif kind == "id":
            ok = _is_int(v) and 0 < v <= MAX_BIGINT
        elif kind == "object":
            ok = isinstance(v, dict)
        if not ok:
            raise _Reject(f"bad_type:{name}", f"{name} is not a valid {kind}: {str(v)[:80]!r}")
        out[name] = v

    if out["event_type"] not in ev.valid_event_types:
        raise _Reject("unknown_event_type", f"event_type {out['event_type'][:80]!r}")
    if topic is not None and topic != topic_for(out["event_type"], rules, topic_prefix):
        raise _Reject("topic_mismatch", f"{out['event_type']} event on topic {topic}")
    if out["event_ts"] > now + timedelta(seconds=ev.max_future_skew_seconds):
        raise _Reject("future_timestamp", f"event_ts {doc['event_ts']} is after now + skew")
    payload = out["payload"]
    for name, kind, required in PAYLOAD_FIELDS[out["event_type"]]:
        v = payload.get(name)
        if v is None:
            if required:
                raise _Reject(f"bad_payload:{name}", f"payload.{name} is missing")
            continue
        if not _check_payload_field(kind, v, rules):
            raise _Reject(f"bad_payload:{name}", f"payload.{name} fails {kind}: {str(v)[:80]!r}")
    return out


def check_event(
    raw: bytes | None,
    *,
    now: datetime,
    rules: Rules,
    topic: str | None = None,
    topic_prefix: str = "",
) -> Verdict:
    """The reference validator: the event (typed envelope) or the reason and a detail."""
    try:
        return Verdict(_check(raw, now, rules, topic, topic_prefix), None, None)
    except _Reject as rej:
        return Verdict(None, rej.reason, rej.detail)


def validate_event(
    raw: bytes | None,
    *,
    now: datetime,
    rules: Rules,
    topic: str | None = None,
    topic_prefix: str = "",
) -> tuple[dict[str, Any] | None, str | None]:
    """``(event, None)`` when ``raw`` meets the contract, else ``(None, reason)``."""
    verdict = check_event(raw, now=now, rules=rules, topic=topic, topic_prefix=topic_prefix)
    return verdict.event, verdict.reason


def _payload_schema(event_type: str, rules: Rules) -> dict[str, Any]:
    ev = rules.events
    kinds: dict[str, dict[str, Any]] = {
        "number_ge0": {"type": "number", "minimum": 0},
        "number_gt0": {"type": "number", "exclusiveMinimum": 0},
        "click_target": {"type": "string", "enum": list(ev.click_targets)},
        "update_action": {"type": "string", "enum": list(ev.movie_update_actions)},
        "text": {"type": "string", "minLength": 1, "maxLength": ev.comment_max_chars},
        "rating": {"type": "number", "minimum": ev.rating_min, "maximum": ev.rating_max},
        "object": {"type": "object"},
        "string": {"type": "string"},
    }
    fields = PAYLOAD_FIELDS[event_type]
    return {
        "type": "object",
        "properties": {name: kinds[kind] for name, kind, _ in fields},
        "required": [name for name, _, req in fields if req],
    }


def json_schema(rules: Rules | None = None) -> dict[str, Any]:
    """The contract as JSON Schema (draft 2020-12), generated from the rules."""
    rules = rules or load_rules()
    ev = rules.events
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://moviepipe.local/schemas/event.json",
        "title": "moviepipe front-end event",
        "description": (
            "One Kafka message on the event topics. Generated by `python -m moviepipe.events` "
            "from moviepipe/events.py and transform_rules.json; do not edit by hand. "
            f"Messages over {ev.max_message_bytes} bytes, not UTF-8, or with event_ts more than "
            f"{ev.max_future_skew_seconds} s in the future are rejected too; the topic must be "
            f"the one of the event type: {ev.topic_by_event_type}."
        ),
        "type": "object",
        "properties": {
            "event_id": {"type": "string", "pattern": UUID_RE},
            "event_type": {"type": "string", "enum": list(ev.valid_event_types)},
            "event_ts": {"type": "string", "pattern": TS_RE, "format": "date-time"},
            "user_id": {"type": "string", "minLength": 1},
            "session_id": {"type": ["string", "null"], "minLength": 1},
            "movie_id": {"type": "integer", "minimum": 1, "maximum": MAX_BIGINT},
            "payload": {"type": "object"},
        },
        "required": [name for name, _, req in ENVELOPE_FIELDS if req],
        "allOf": [
            {
                "if": {"properties": {"event_type": {"const": t}}},
                "then": {"properties": {"payload": _payload_schema(t, rules)}},
            }
            for t in ev.valid_event_types
        ],
    }


if __name__ == "__main__":
    json.dump(json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
