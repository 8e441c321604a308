"""The front-end event contract, in one place: fields, reference validator, wording, schema.

* :mod:`moviepipe.events.fields`: the ordered field tables, patterns, limits and the
  columns of the event and dead-letter tables; the canonical form's regex;
* :mod:`moviepipe.events.kinds`: what each field kind means (:data:`KINDS`), from which
  the reference, the wording, the JSON Schema and the Arrow screen derive their checks;
* :mod:`moviepipe.events.reference`: :func:`check_event`, the reference validator;
* :mod:`moviepipe.events.details`: the words of each rejection's ``reason_detail``;
* :mod:`moviepipe.events.schema`: the JSON Schema export (``python -m moviepipe.events``).

The rules (event types, click targets, rating range, size and clock-skew limits,
topic per type) come from ``transform_rules.json``. docs/events.md describes it all.

Usage::

    from moviepipe.events import check_event
    verdict = check_event(raw_bytes, now=kafka_ts, rules=rules, topic="user_watch_log")
    python -m moviepipe.events > docs/events.schema.json   # publish the JSON Schema
"""

from moviepipe.events.fields import (
    ENVELOPE_FIELDS,
    MAX_BIGINT,
    NUL_ESCAPE_RE,
    PAYLOAD_FIELDS,
    REJECTED_COLUMNS,
    TS_RE,
    UUID_RE,
    VALID_COLUMNS,
    canonical_form_regex,
    canonical_payload_fields,
    topic_for,
)
from moviepipe.events.kinds import KINDS, FieldKind, FromRules, kind, parse_ts
from moviepipe.events.reference import Verdict, check_event

__all__ = [
    "ENVELOPE_FIELDS",
    "KINDS",
    "MAX_BIGINT",
    "NUL_ESCAPE_RE",
    "PAYLOAD_FIELDS",
    "REJECTED_COLUMNS",
    "TS_RE",
    "UUID_RE",
    "VALID_COLUMNS",
    "FieldKind",
    "FromRules",
    "Verdict",
    "canonical_form_regex",
    "canonical_payload_fields",
    "check_event",
    "kind",
    "parse_ts",
    "topic_for",
]
