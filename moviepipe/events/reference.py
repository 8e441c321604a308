"""The reference validator of the event contract: one message in, a verdict out.

Every Kafka message on the four event topics is one UTF-8 JSON object::

    {"event_id": "<uuid>", "event_type": "watch", "event_ts": "2024-05-01T20:15:00+02:00",
     "user_id": "42", "session_id": "s-1", movie_id": 603, "payload": {...}}

The checks run in the order of :data:`~moviepipe.events.fields.ENVELOPE_FIELDS` and
:data:`~moviepipe.events.fields.PAYLOAD_FIELDS`: the first failing check gives the
rejection reason, a short stable code such as ``not_json`` or ``bad_payload:rating``,
and a detail worded by :mod:`moviepipe.events.details`. Spark
(``streaming.spark_exact``) and the Arrow screen (``streaming.arrow_screen``) are
tested to agree with :func:`check_event`.

Usage::

    from moviepipe.events import check_event
    verdict = check_event(raw_bytes, now=kafka_ts, rules=rules, topic="user_watch_log")
    verdict.event or (verdict.reason, verdict.detail)
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from moviepipe.events import details
from moviepipe.events.fields import (
    ENVELOPE_FIELDS,
    MAX_BIGINT,
    NUL_ESCAPE_RE,
    PAYLOAD_FIELDS,
    TS_RE,
    UUID_RE,
    topic_for,
)
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


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


_TS = re.compile(TS_RE)
_UUID = re.compile(UUID_RE)


def parse_ts(value: str) -> datetime | None:
    """An ``event_ts`` string as an aware datetime, or None when it breaks the contract."""
    if not _TS.match(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


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


def _problem(kind: str, v: Any, rules: Rules) -> str:
    """Which rule of ``kind`` a value of the right JSON type breaks (see details.problems)."""
    ev = rules.events
    if kind == "uuid":
        return "format"
    if kind == "timestamp":
        return "format" if _TS.match(v) is None else "invalid"
    if kind == "string":
        return "empty"
    if kind in {"click_target", "update_action"}:
        return "unknown"
    if kind == "text":
        return "empty" if len(v) == 0 else "too_long"
    if kind == "id":
        return "below" if v < 1 else "above"
    if not math.isfinite(v):
        return "not_finite"
    if kind == "rating":
        return "below" if v < ev.rating_min else "above"
    return "below"  # number_ge0, number_gt0


def _shown(v: Any) -> str:
    return details.shown(json.dumps(v, ensure_ascii=False, separators=(",", ":")))


def _describe(path: str, kind: str, v: Any, rules: Rules) -> str:
    """The detail for a value that fails ``kind``: its JSON type, else the rule it breaks."""
    value = _shown(v)
    expected, actual = details.EXPECTED_TYPE[kind], _json_type(v)
    if not (_is_int(v) if expected == "integer" else actual == expected):
        return details.wrong_type(path, kind) % (value, details.TYPE_PHRASE[actual])
    return details.bad_value(path, kind, _problem(kind, v, rules), rules) % value


def _payload_ok(kind: str, v: Any, rules: Rules) -> bool:
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


def _envelope_value(kind: str, v: Any) -> tuple[bool, Any]:
    """Whether ``v`` meets ``kind``, and its typed value (lower-case UUID, datetime)."""
    if kind == "uuid":
        ok = isinstance(v, str) and _UUID.match(v) is not None
        return ok, v.lower() if ok else v
    if kind == "string":
        return isinstance(v, str) and len(v) > 0, v
    if kind == "timestamp":
        ts = parse_ts(v) if isinstance(v, str) else None
        return ts is not None, ts
    if kind == "id":
        return _is_int(v) and 0 < v <= MAX_BIGINT, v
    if kind == "object":
        return isinstance(v, dict), v
    raise AssertionError(kind)


def _check_doc(
    doc: dict[str, Any], now: datetime, rules: Rules, topic: str | None, topic_prefix: str
) -> dict[str, Any]:
    ev = rules.events
    out: dict[str, Any] = {}
    for name, kind, required in ENVELOPE_FIELDS:
        v = doc.get(name)
        if v is None:
            if required:
                raise _Reject(f"missing_field:{name}", details.missing(name, null=name in doc))
            out[name] = None
            continue
        ok, typed = _envelope_value(kind, v)
        if not ok:
            raise _Reject(f"bad_type:{name}", _describe(name, kind, v, rules))
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
    for name, kind, required in PAYLOAD_FIELDS[event_type]:
        v = payload.get(name)
        if v is None:
            if required:
                detail = details.missing(
                    f"payload.{name}", null=name in payload, event_type=event_type
                )
                raise _Reject(f"bad_payload:{name}", detail)
            continue
        if not _payload_ok(kind, v, rules):
            raise _Reject(f"bad_payload:{name}", _describe(f"payload.{name}", kind, v, rules))
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
