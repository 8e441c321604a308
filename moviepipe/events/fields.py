"""The event contract's tables: envelope and payload fields, patterns, limits, columns.

Every check of the contract follows the order of :data:`ENVELOPE_FIELDS` and
:data:`PAYLOAD_FIELDS` (``(name, kind, required)``); what a kind means is its entry
in :data:`moviepipe.events.kinds.KINDS` (the values it allows may come from
``transform_rules.json``, ``events.*``). The reference validator
(:mod:`moviepipe.events.reference`), the JSON Schema (:mod:`moviepipe.events.schema`)
and the Arrow screen (``streaming.arrow_screen``) all read these tables.

Usage::

    from moviepipe.events.fields import ENVELOPE_FIELDS, PAYLOAD_FIELDS, canonical_form_regex
    regex = canonical_form_regex({"uuid": '"[^"]*"', ...})   # one pattern per field kind
    # (the Arrow screen's: {name: k.canonical for name, k in KINDS.items() if k.canonical})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from moviepipe.rules import Rules

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
# Payload fields per event type in check order: (name, kind, required); kinds in kinds.KINDS.
# An envelope "string" must not be empty; a payload "string" may be (kinds.ENVELOPE_KINDS).
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


def topic_for(event_type: str, rules: Rules, topic_prefix: str = "") -> str:
    """The topic an event of ``event_type`` must arrive on."""
    return topic_prefix + rules.events.topic_by_event_type[event_type]


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
