"""The wording of a dead letter's ``reason_detail``: which value broke which rule.

The ``reason`` codes are stable and short (``bad_payload:rating``); the detail is
for a person: ``payload.rating = 8 is above the maximum 5.0``. Each engine decides
*which* rule a value broke (the Python reference in :mod:`moviepipe.events.reference`,
Spark in ``streaming.spark_exact``; the Arrow screen only accepts) and takes the
words from here, so the engines write the same text. A template's ``%s`` are
filled by Python's ``%`` or by Spark's ``format_string``, which read them alike.

Values are shown as compact JSON (as parsed: ``1.50`` is shown as ``1.5``), cut
to :data:`SHOWN_CHARS` characters. Only the decoders' own messages (``not_json``,
``not_utf8``) differ between engines.

Usage::

    from moviepipe.events import details
    details.bad_value("payload.rating", "rating", "above", rules) % "8"
    # 'payload.rating = 8 is above the maximum 5.0'
"""

from __future__ import annotations

from moviepipe.events.fields import MAX_BIGINT
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
# The JSON type each field kind needs.
EXPECTED_TYPE = {
    "uuid": "string",
    "string": "string",
    "timestamp": "string",
    "id": "integer",
    "object": "object",
    "number_ge0": "number",
    "number_gt0": "number",
    "rating": "number",
    "click_target": "string",
    "update_action": "string",
    "text": "string",
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


def wrong_type(path: str, kind: str) -> str:
    """Template; arguments: the value shown, the phrase of its JSON type."""
    return f"{path} = %s is %s, not {TYPE_PHRASE[EXPECTED_TYPE[kind]]}"


def problems(kind: str, rules: Rules) -> dict[str, str]:
    """What can be wrong with a value of the right JSON type, per field kind."""
    ev = rules.events
    finite = {"not_finite": "is not a finite number"}
    table = {
        "uuid": {"format": "is not a UUID"},
        "string": {"empty": "is empty; it must be a non-empty string"},
        "timestamp": {
            "format": "is not an ISO-8601 date and time with an offset (at most microseconds)",
            "invalid": "is not a valid date and time",
        },
        "id": {"below": "is below the minimum 1", "above": f"is above the maximum {MAX_BIGINT}"},
        "number_ge0": {**finite, "below": "is below the minimum 0"},
        "number_gt0": {**finite, "below": "is not greater than 0"},
        "rating": {
            **finite,
            "below": f"is below the minimum {ev.rating_min}",
            "above": f"is above the maximum {ev.rating_max}",
        },
        "click_target": {"unknown": f"is not one of {', '.join(ev.click_targets)}"},
        "update_action": {"unknown": f"is not one of {', '.join(ev.movie_update_actions)}"},
        "text": {
            "empty": "is empty; the minimum is 1 character",
            "too_long": f"is longer than the maximum of {ev.comment_max_chars} characters",
        },
    }
    return table.get(kind, {})


def bad_value(path: str, kind: str, problem: str, rules: Rules) -> str:
    """Template; argument: the value shown."""
    return f"{path} = %s {_literal(problems(kind, rules)[problem])}"


def unknown_event_type(rules: Rules) -> str:
    """Template; argument: the event_type shown."""
    return f"event_type = %s is not one of {_literal(', '.join(rules.events.valid_event_types))}"


def future_timestamp(rules: Rules) -> str:
    """Template; argument: the event_ts shown."""
    skew = rules.events.max_future_skew_seconds
    return f"event_ts = %s is more than {skew} s after the message's Kafka timestamp"
