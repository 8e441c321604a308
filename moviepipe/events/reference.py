"""The reference validator of the event contract: one message in, a verdict out.

Every Kafka message on the four event topics is one UTF-8 JSON object::

    {"event_id": "<uuid>", "event_type": "watch", "event_ts": "2024-05-01T20:15:00+02:00",
     "user_id": "42", "session_id": "s-1", movie_id": 603, "payload": {...}}

The checks run in the order of :data:`~moviepipe.events.fields.ENVELOPE_FIELDS` and
:data:`~moviepipe.events.fields.PAYLOAD_FIELDS`, each field's by its kind
(:meth:`moviepipe.events.kinds.FieldKind.check`): the first failing check gives the
rejection reason, a short stable code such as ``not_json`` or ``bad_payload:rating``,
and a detail worded by :mod:`moviepipe.events.details`. The Arrow screen
(``streaming.arrow_screen``, which the pandas fallback and Spark run) is tested
never to accept what :func:`check_event` refuses.

Usage::

    from moviepipe.events import check_event
    verdict = check_event(raw_bytes, now=kafka_ts, rules=rules, topic="user_watch_log")
    verdict.event or (verdict.reason, verdict.detail)
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from moviepipe.events import details
from moviepipe.events.fields import ENVELOPE_FIELDS, NUL_ESCAPE_RE, PAYLOAD_FIELDS, topic_for
from moviepipe.events.kinds import ENVELOPE_KINDS, KINDS, WRONG_TYPE, FieldKind
from moviepipe.rules import Rules


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
    if len(out) != len(pairs):  # Spark's parse_json refuses them too
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {json.dumps(key, ensure_ascii=False)} appears twice")
            seen.add(key)
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _decode(raw: bytes | None, rules: Rules) -> dict[str, Any]:
    """The message as a JSON object, or the first decoding reason."""
    ev = rules.events
    if raw is None:
        raise _Reject("not_json", details.TOMBSTONE)
    if len(raw) == 0:
        raise _Reject("not_json", details.EMPTY)
    if len(raw) > ev.max_message_bytes:
        raise _Reject("oversize", details.oversize(rules) % len(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Reject("not_utf8", details.NOT_UTF8 % f"{exc.reason} at byte {exc.start}") from None
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise _Reject("not_json", details.NOT_JSON % str(exc)[:200]) from None
    if not isinstance(doc, dict):
        raise _Reject("not_object", details.NOT_OBJECT % details.TYPE_PHRASE[_json_type(doc)])
    if "\\u" in text:
        # Only a \u escape can produce a NUL or a lone surrogate, which jsonb refuses.
        try:
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _Reject("bad_unicode", details.SURROGATE) from None
        if re.search(NUL_ESCAPE_RE, json.dumps(doc)):
            raise _Reject("bad_unicode", details.NUL)
    return doc


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


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


def _shown(v: Any) -> str:
    return details.shown(json.dumps(v, ensure_ascii=False, separators=(",", ":")))


def _describe(path: str, k: FieldKind, fault: str, v: Any, rules: Rules) -> str:
    """The detail for a value that fails kind ``k``: its JSON type, else the rule it breaks."""
    value = _shown(v)
    if fault == WRONG_TYPE:
        return details.wrong_type(path, k) % (value, details.TYPE_PHRASE[_json_type(v)])
    return details.bad_value(path, k, fault, rules) % value


def _check_doc(
    doc: dict[str, Any], now: datetime, rules: Rules, topic: str | None, topic_prefix: str
) -> dict[str, Any]:
    ev = rules.events
    out: dict[str, Any] = {}
    for name, kind_name, required in ENVELOPE_FIELDS:
        v = doc.get(name)
        if v is None:
            if required:
                raise _Reject(f"missing_field:{name}", details.missing(name, null=name in doc))
            out[name] = None
            continue
        k = ENVELOPE_KINDS.get(kind_name) or KINDS[kind_name]  # kinds.kind(), inlined
        fault, typed = k.check(v, rules)
        if fault is not None:
            raise _Reject(f"bad_type:{name}", _describe(name, k, fault, v, rules))
        out[name] = typed

    event_type = out["event_type"]
    if event_type not in ev.valid_event_types:
        raise _Reject("unknown_event_type", details.unknown_event_type(rules) % _shown(event_type))
    expected = topic_for(event_type, rules, topic_prefix)
    if topic is not None and topic != expected:
        raise _Reject("topic_mismatch", details.TOPIC_MISMATCH % (event_type, topic, expected))
    if out["event_ts"] > now + timedelta(seconds=ev.max_future_skew_seconds):
        raise _Reject("future_timestamp", details.future_timestamp(rules) % _shown(doc["event_ts"]))
    payload = out["payload"]
    for name, kind_name, required in PAYLOAD_FIELDS[event_type]:
        v = payload.get(name)
        if v is None:
            if required:
                detail = details.missing(
                    f"payload.{name}", null=name in payload, event_type=event_type
                )
                raise _Reject(f"bad_payload:{name}", detail)
            continue
        k = KINDS[kind_name]
        fault, _ = k.check(v, rules)
        if fault is not None:
            path = f"payload.{name}"
            raise _Reject(f"bad_payload:{name}", _describe(path, k, fault, v, rules))
    return out


def check_event(
    raw: bytes | None,
    *,
    now: datetime,
    rules: Rules,
    topic: str | None = None,
    topic_prefix: str = "",
) -> Verdict:
    """The event (typed envelope), or the reason and its detail.

    ``now`` is the clock of the future-timestamp check (the engines pass the
    message's Kafka timestamp); ``topic`` the topic it arrived on, if known.
    """
    try:
        doc = _decode_fast(raw, rules)
        if doc is None:
            doc = _decode(raw, rules)
        return Verdict(_check_doc(doc, now, rules, topic, topic_prefix), None, None)
    except _Reject as rej:
        return Verdict(None, rej.reason, rej.detail)
