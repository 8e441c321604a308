"""Another client's JSON rewritten in the canonical form, for the Arrow screen to prove.

The screen (:mod:`streaming.arrow_screen`) proves only the canonical form: compact,
the contract's key order, no escapes. A front end that writes ``json.dumps``'s
default spacing, another key order or ``\\u`` escapes sends valid events the screen
cannot prove, and the reference costs about 24 us a message against the screen's 3.
:func:`canonicalize` parses such a message with orjson and writes the same document
back compact, in the contract's key order; the screen then judges the rewrite.

That is sound because the reference's verdict depends only on the parsed document
(with the topic and the clock), and a rewrite the screen proves was parsed into the
reference's document:

* The form has no backslash, no exponent and integers of at most 18 digits, so the
  rewrite's strings, integers and doubles are ones both parsers read alike (orjson
  reads an integer past 64 bits as a double: its rewrite has an exponent).
* No key was given twice (the reference refuses it; orjson keeps the last) and none
  was dropped (a key the contract does not name): the original holds as many key
  tokens (``"`` then ``:``, :data:`KEY_END`) as the rewrite. Neither holds such a
  token inside a string, since a quote inside a string takes a backslash in both.
* The message is within ``max_message_bytes`` as sent (the rewrite may be shorter).

Everything else (orjson refuses it, it is no object, the rewrite is not canonical)
goes to the reference with the original bytes.

Usage::

    rewritten = canonicalize(values, rules)     # bytes, or None where the reference must judge
"""

from __future__ import annotations

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from moviepipe.events import ENVELOPE_FIELDS, PAYLOAD_FIELDS
from moviepipe.rules import Rules

KEY_END = r'"\s*:'

_ENVELOPE = tuple(name for name, _, _ in ENVELOPE_FIELDS)
_PAYLOAD = {t: tuple(name for name, _, _ in fs) for t, fs in PAYLOAD_FIELDS.items()}


def _rewrite(raw: bytes) -> bytes | None:
    """The document compact, in the contract's key order (keys it does not name dropped)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict:
        return None
    payload, event_type = doc.get("payload"), doc.get("event_type")
    names = _PAYLOAD.get(event_type) if type(event_type) is str else None
    if type(payload) is not dict or names is None:
        return None
    out = {name: doc[name] for name in _ENVELOPE if name in doc}
    out["payload"] = {name: payload[name] for name in names if name in payload}
    return orjson.dumps(out)


def canonicalize(values: list[bytes | None], rules: Rules) -> list[bytes | None]:
    """Each message in the canonical form, or None where only the reference may judge it."""
    fits = pc.less_equal(
        pc.binary_length(pa.array(values, pa.binary())), rules.events.max_message_bytes
    ).fill_null(False)
    out = [_rewrite(v) if ok else None for v, ok in zip(values, fits.to_pylist(), strict=True)]  # type: ignore[arg-type]
    at = [i for i, v in enumerate(out) if v is not None]
    if at:
        # orjson parsed these, so they are UTF-8
        before = pc.count_substring_regex(pa.array([values[i] for i in at], pa.string()), KEY_END)
        after = pc.count_substring_regex(pa.array([out[i] for i in at], pa.string()), KEY_END)
        for i, same in zip(at, pc.equal(before, after).to_pylist(), strict=True):
            if not same:
                out[i] = None
    return out
