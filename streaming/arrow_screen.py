"""Vectorised pre-screen of a chunk of Kafka values: the fallback's fast path.

The same idea as the Spark fast path (:func:`streaming.transforms.classify_batch`):
a message in the canonical form (compact JSON, the contract's keys in the
contract's order, no escapes in strings, plain numbers) is recognised by one
RE2 match over the whole chunk, parsed by Arrow's JSON reader in one C++ pass
(the form guarantees every field's JSON type, so the typed schema cannot
coerce anything), and checked with column comparisons: no Python object per
field. It may only accept: every record it cannot prove valid goes to
:func:`moviepipe.events.check_event`, the reference, which names the reason.

Usage::

    proven, fields = screen(values, topics, clock_us, rules, topic_prefix="")
    # proven: positions of the records proven valid; fields: their typed envelope
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from moviepipe.events import (
    ENVELOPE_FIELDS,
    UUID_RE,
    canonical_form_regex,
    canonical_payload_fields,
    parse_ts,
)
from moviepipe.rules import Rules

# No backslash (so no escape to decode) and no control character (which JSON forbids,
# and which keeps every document on one line for the parser).
_STR = r'"[^"\\\x00-\x1f]*"'
# Plain numbers only: a short integer part and no exponent always fit a finite double.
_NUM = r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,17})?"
_TS = (
    r'"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]'
    r':[0-5][0-9](?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"'
)
_VALUE = {
    "uuid": _STR, "string": _STR, "timestamp": _TS, "id": r"[1-9][0-9]{0,17}",
    "number_ge0": _NUM, "number_gt0": _NUM, "rating": _NUM,
    "click_target": _STR, "update_action": _STR, "text": _STR,
}  # fmt: skip
_NUMBER_KINDS = {"number_ge0", "number_gt0", "rating"}
# Object-valued payload fields are left to the reference.
_PAYLOAD = canonical_payload_fields(_VALUE)
# RE2 (no possessive quantifiers needed: it never backtracks).
_REGEX = canonical_form_regex(_VALUE)


def _utf8(values: pa.Array) -> pa.Array:
    """``values`` as strings; a record that is not UTF-8 becomes null (the reference names it)."""
    try:
        return values.cast(pa.string())
    except pa.ArrowInvalid:
        ok = [v is None or _decodes(v) for v in values.to_pylist()]
        return pc.if_else(pa.array(ok), values, pa.nulls(len(values), pa.binary())).cast(
            pa.string()
        )


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _timestamps(ts: pa.Array) -> pa.Array:
    """ISO-8601 strings to UTC microseconds; null where Arrow would not parse (e.g. 30 Feb)."""
    try:
        return ts.cast(pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:
        parsed = [None if s is None else parse_ts(s) for s in ts.to_pylist()]
        return pa.array(parsed, pa.timestamp("us", tz="UTC"))


def _field_ok(kind: str, v: pa.Array, rules: Rules) -> pa.Array:
    ev = rules.events
    if kind == "uuid":
        return pc.match_substring_regex(v, UUID_RE)
    if kind == "string":
        return pc.greater(pc.binary_length(v), 0)
    if kind == "id":
        return pc.greater(v, 0)
    if kind == "number_ge0":
        return pc.greater_equal(v, 0)
    if kind == "number_gt0":
        return pc.greater(v, 0)
    if kind == "rating":
        return pc.and_(pc.greater_equal(v, ev.rating_min), pc.less_equal(v, ev.rating_max))
    if kind == "click_target":
        return pc.is_in(v, pa.array(ev.click_targets))
    if kind == "update_action":
        return pc.is_in(v, pa.array(ev.movie_update_actions))
    if kind == "text":
        return pc.and_(
            pc.greater_equal(pc.utf8_length(v), 1),
            pc.less_equal(pc.utf8_length(v), ev.comment_max_chars),
        )
    if kind == "timestamp":
        return pc.is_valid(v)
    raise AssertionError(kind)


def _schema() -> pa.Schema:
    arrow = {"id": pa.int64(), **{k: pa.float64() for k in _NUMBER_KINDS}}
    payload = pa.struct(
        [(n, arrow.get(k, pa.string())) for fs in _PAYLOAD.values() for n, k, _ in fs]
    )
    return pa.schema(
        [
            (n, payload if k == "object" else arrow.get(k, pa.string()))
            for n, k, _ in ENVELOPE_FIELDS
        ]
    )


_SCHEMA = _schema()


def _parse(docs: list[bytes]) -> pa.Table | None:
    """The documents (proven compact and single-line by the form) parsed in one C++ pass."""
    try:
        return pj.read_json(
            io.BytesIO(b"\n".join(docs)),
            read_options=pj.ReadOptions(use_threads=False, block_size=1 << 26),
            parse_options=pj.ParseOptions(
                explicit_schema=_SCHEMA, unexpected_field_behavior="error"
            ),
        )
    except pa.ArrowInvalid:
        return None  # cannot happen for documents in the form; then the reference judges


def _both(a: pa.Array, b: pa.Array) -> pa.Array:
    return pc.and_kleene(a, b)


def screen(
    values: list[bytes | None],
    topics: list[str],
    clock_us: np.ndarray,
    rules: Rules,
    topic_prefix: str = "",
) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """``(proven, fields)``: positions of the records proven valid, and their typed envelope.

    ``clock_us`` is each record's Kafka timestamp in UTC microseconds (the clock of the
    future-timestamp check). ``fields`` holds one Arrow array per envelope column (and
    ``payload``, the payload object's text), aligned with ``proven``.
    """
    ev = rules.events
    raw = pa.array(values, pa.binary())
    too_big = pc.greater(pc.binary_length(raw), ev.max_message_bytes)
    text = pc.if_else(too_big, pa.nulls(len(raw), pa.string()), _utf8(raw))
    at = np.flatnonzero(pc.match_substring_regex(text, _REGEX).fill_null(False).to_numpy(False))
    docs = [values[i] for i in at.tolist()]
    table = _parse(docs) if docs else None
    if table is None:
        return np.array([], dtype=np.int64), {}
    ok = pa.array(np.ones(len(at), dtype=bool))
    fields: dict[str, pa.Array] = {}
    for name, kind, required in ENVELOPE_FIELDS:
        if kind == "object":
            continue
        v = table.column(name).combine_chunks()
        if kind == "timestamp":
            v = _timestamps(v)
        fields[name] = v
        good = _field_ok(kind, v, rules)
        ok = _both(ok, good if required else pc.or_kleene(pc.is_null(v), good))
    etype = fields["event_type"]
    types = pa.array(ev.valid_event_types)
    expected = pa.array([topic_prefix + ev.topic_by_event_type[t] for t in ev.valid_event_types])
    topic = pa.array([topics[i] for i in at.tolist()], pa.string())
    ok = _both(ok, pc.equal(topic, pc.take(expected, pc.index_in(etype, types))))
    limit = pa.array(clock_us[at] + ev.max_future_skew_seconds * 1_000_000)
    ok = _both(ok, pc.less_equal(fields["event_ts"].cast(pa.int64()), limit))
    payload = table.column("payload").combine_chunks()
    per_type = pa.nulls(len(at), pa.bool_())
    for event_type, fs in _PAYLOAD.items():
        type_ok = pa.array(np.ones(len(at), dtype=bool))
        for name, kind, required in fs:
            v = payload.field(name)
            good = _field_ok(kind, v, rules)
            type_ok = _both(type_ok, good if required else pc.or_kleene(pc.is_null(v), good))
        per_type = pc.if_else(pc.equal(etype, event_type), type_ok, per_type)
    keep = _both(ok, per_type).fill_null(False)
    # In the form the payload is the last value: its text runs to the envelope's brace.
    fields["payload"] = pa.array(
        [d[d.index(b'"payload":') + 10 : -1] for d in docs], pa.binary()
    ).cast(pa.string())
    return at[keep.to_numpy(zero_copy_only=False)], {k: v.filter(keep) for k, v in fields.items()}
