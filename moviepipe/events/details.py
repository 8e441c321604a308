"""The wording of a dead letter's ``reason_detail``: which value broke which rule.

The ``reason`` codes are stable and short (``bad_payload:rating``); the detail is
for a person: ``payload.rating = 8 is above the maximum 5.0``. The reference
(:mod:`moviepipe.events.reference`) decides *which* rule a value broke and takes
the words from here (every engine names its reasons through it; the Arrow screen
only accepts). The words of a field kind's rules come with the kind
(:meth:`moviepipe.events.kinds.FieldKind.problems`); a template's ``%s`` are
filled by ``%``.

Values are shown as compact JSON (as parsed: ``1.50`` is shown as ``1.5``), cut
to :data:`SHOWN_CHARS` characters. The collector's body decoder words
``not_json`` and ``not_utf8`` with the same templates.

Usage::

    from moviepipe.events import details
    details.bad_value("payload.rating", "rating", "above", rules) % "8"
    # 'payload.rating = 8 is above the maximum 5.0'
"""

from __future__ import annotations

from moviepipe.events.kinds import FieldKind, kind_at
from moviepipe.rules import Rules

SHOWN_CHARS = 80
ELLIPSIS = "…"

# A JSON type as a sentence says it.
TYPE_PHRASE = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
    "null": "null",
}
TOMBSTONE = "the message has no value (a tombstone)"
EMPTY = "the message is empty"
NOT_JSON = "not strict JSON: %s"
NOT_UTF8 = "not UTF-8: %s"
NOT_OBJECT = "the top level is %s, not an object"
NUL = "a string holds a NUL character (\\u0000), which PostgreSQL jsonb cannot store"
SURROGATE = "a string holds a lone surrogate (\\ud800-\\udfff), which PostgreSQL jsonb cannot store"
TOPIC_MISMATCH = "a %s event on topic %s; its topic is %s"


def _literal(text: str) -> str:
    """``text`` safe inside a template (a rule's values could hold a ``%``)."""
    return text.replace("%", "%%")


def shown(json_text: str) -> str:
    """A value's JSON text, cut to :data:`SHOWN_CHARS` characters."""
    if len(json_text) <= SHOWN_CHARS:
        return json_text
    return json_text[: SHOWN_CHARS - 1] + ELLIPSIS


def oversize(rules: Rules) -> str:
    """Template; argument: the message's size in bytes."""
    return f"the message is %s bytes; the maximum is {rules.events.max_message_bytes}"


def missing(path: str, *, null: bool, event_type: str | None = None) -> str:
    """A required field that is absent (or JSON null, which counts as absent)."""
    where = f" in {event_type} events" if event_type else ""
    return f"{path} is {'null' if null else 'missing'}; it is required{where}"


def _kind(path: str, kind: str | FieldKind) -> FieldKind:
    return kind_at(path, kind) if isinstance(kind, str) else kind


def wrong_type(path: str, kind: str | FieldKind) -> str:
    """Template; arguments: the value shown, the phrase of its JSON type."""
    return f"{path} = %s is %s, not {TYPE_PHRASE[_kind(path, kind).json_type]}"


def bad_value(path: str, kind: str | FieldKind, problem: str, rules: Rules) -> str:
    """Template; argument: the value shown."""
    return f"{path} = %s {_literal(_kind(path, kind).problems(rules)[problem])}"


def unknown_event_type(rules: Rules) -> str:
    """Template; argument: the event_type shown."""
    return f"event_type = %s is not one of {_literal(', '.join(rules.events.valid_event_types))}"


def future_timestamp(rules: Rules) -> str:
    """Template; argument: the event_ts shown."""
    skew = rules.events.max_future_skew_seconds
    return f"event_ts = %s is more than {skew} s after the message's Kafka timestamp"
