"""Vectorised pre-screen of a chunk of Kafka values: the validator's fast path.

The pandas fallback and Spark (through ``mapInArrow``) run it by way of
:func:`streaming.pandas_transforms.arrow_parse_validate`. A message in the
canonical form (compact JSON, the contract's keys in the contract's order, no
escapes in strings, plain numbers) is recognised by one RE2 match over the whole
chunk, parsed by Arrow's JSON reader in one C++ pass (the form guarantees every
field's JSON type, so the typed schema cannot coerce anything), and checked with
column comparisons: no Python object per field. The form, the parse's types and
each field's check come from the field kinds (:mod:`moviepipe.events.kinds`);
nothing here knows a kind. It may only accept: every record it cannot prove
valid goes to :func:`moviepipe.events.check_event`, the reference, which names
the reason.

Usage::

    proven, fields = screen(values, topics, clock_us, rules, topic_prefix="")
    # proven: positions of the records proven valid; fields: their typed envelope
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from moviepipe.events import (
    ENVELOPE_FIELDS,
    KINDS,
    PAYLOAD_FIELDS,
    FieldKind,
    canonical_form_regex,
    canonical_payload_fields,
    kind,
)
from moviepipe.events.kinds import ENVELOPE_KINDS
from moviepipe.rules import Rules


@dataclass(frozen=True)
class _Form:
    """The canonical form of the current tables: its RE2 regex, the typed parse's
    schema, and the kind of each field it holds (object-valued payload fields and
    kinds without a canonical pattern are left to the reference)."""

    regex: str
    schema: pa.Schema
    envelope: tuple[tuple[str, FieldKind, bool], ...]
    payload: dict[str, tuple[tuple[str, FieldKind, bool], ...]]


@functools.lru_cache(maxsize=4)
def _form_of(envelope: tuple, payload: tuple, kinds: tuple, envelope_kinds: tuple) -> _Form:
    values = {name: k.canonical for name, k in (*kinds, *envelope_kinds) if k.canonical}
    env = tuple((n, kind(k, envelope=True), req) for n, k, req in envelope if k != "object")
    pay = {
        t: tuple((n, kind(k), req) for n, k, req in fs)
        for t, fs in canonical_payload_fields(values).items()
    }
    struct = pa.struct([(n, k.arrow_type()) for fs in pay.values() for n, k, _ in fs])
    schema = pa.schema(
        [(n, struct if k == "object" else kind(k, envelope=True).arrow_type())
         for n, k, _ in envelope]
    )  # fmt: skip
    return _Form(canonical_form_regex(values), schema, env, pay)


def _form() -> _Form:
    """The form of the tables as they are now (a kind added in a test is seen at once)."""
    return _form_of(
        ENVELOPE_FIELDS,
        tuple(PAYLOAD_FIELDS.items()),
        tuple(KINDS.items()),
        tuple(ENVELOPE_KINDS.items()),
    )


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


def _parse(docs: list[bytes], schema: pa.Schema) -> pa.Table | None:
    """The documents (proven compact and single-line by the form) parsed in one C++ pass."""
    try:
        return pj.read_json(
            io.BytesIO(b"\n".join(docs)),
            read_options=pj.ReadOptions(use_threads=False, block_size=1 << 26),
            parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="error"
            ),
        )
    except pa.ArrowInvalid:
        return None  # cannot happen for documents in the form; then the reference judges


def _both(a: pa.Array, b: pa.Array) -> pa.Array:
    return pc.and_kleene(a, b)


def _meets(k: FieldKind, v: pa.Array, required: bool, rules: Rules) -> tuple[pa.Array, pa.Array]:
    """``(ok, typed)``: where the values meet kind ``k`` (absent is fine when optional)."""
    good, typed = k.arrow_check(v, rules)
    return (good if required else pc.or_kleene(pc.is_null(v), good)), typed


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
    form = _form()
    raw = pa.array(values, pa.binary())
    too_big = pc.greater(pc.binary_length(raw), ev.max_message_bytes)
    text = pc.if_else(too_big, pa.nulls(len(raw), pa.string()), _utf8(raw))
    at = np.flatnonzero(pc.match_substring_regex(text, form.regex).fill_null(False).to_numpy(False))
    docs = [values[i] for i in at.tolist()]
    table = _parse(docs, form.schema) if docs else None
    if table is None:
        return np.array([], dtype=np.int64), {}
    ok = pa.array(np.ones(len(at), dtype=bool))
    fields: dict[str, pa.Array] = {}
    for name, k, required in form.envelope:
        good, fields[name] = _meets(k, table.column(name).combine_chunks(), required, rules)
        ok = _both(ok, good)
    etype = fields["event_type"]
    types = pa.array(ev.valid_event_types)
    expected = pa.array([topic_prefix + ev.topic_by_event_type[t] for t in ev.valid_event_types])
    topic = pa.array([topics[i] for i in at.tolist()], pa.string())
    ok = _both(ok, pc.equal(topic, pc.take(expected, pc.index_in(etype, types))))
    limit = pa.array(clock_us[at] + ev.max_future_skew_seconds * 1_000_000)
    ok = _both(ok, pc.less_equal(fields["event_ts"].cast(pa.int64()), limit))
    payload = table.column("payload").combine_chunks()
    per_type = pa.nulls(len(at), pa.bool_())
    for event_type, fs in form.payload.items():
        type_ok = pa.array(np.ones(len(at), dtype=bool))
        for name, k, required in fs:
            type_ok = _both(type_ok, _meets(k, payload.field(name), required, rules)[0])
        per_type = pc.if_else(pc.equal(etype, event_type), type_ok, per_type)
    keep = _both(ok, per_type).fill_null(False)
    # In the form the payload is the last value: its text runs to the envelope's brace.
    fields["payload"] = pa.array(
        [d[d.index(b'"payload":') + 10 : -1] for d in docs], pa.binary()
    ).cast(pa.string())
    return at[keep.to_numpy(zero_copy_only=False)], {k: v.filter(keep) for k, v in fields.items()}
