"""The collector's pure part: a request body split into events, each judged by the contract.

A body is one JSON object (one event) or a JSON array of them (a batch). Each
event keeps its exact bytes (the span of the array it came from), so what is
validated, produced to Kafka and kept as a dead letter is what the client sent.
Every event is judged by :func:`moviepipe.events.check_event`, the reference
validator the engines are tested against: no rule is written here.

Usage::

    events = split_body(body, max_events=1000)  # raises BodyError when the body is not JSON
    results = judge(events, now=now, rules=rules, topic_prefix="")
    [r.status for r in results]               # "accepted" / "rejected"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moviepipe.events import check_event, details, topic_for
from moviepipe.rules import Rules

_WS = re.compile(r"[ \t\n\r]*")
_ARRAY_DECODER = json.JSONDecoder()  # only finds each element's end; check_event judges it


class BodyError(Exception):
    """The body as a whole is not JSON (or too large): one dead letter, no events."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail
        self.kept = b""  # what of the body the dead letter keeps, when not the whole body


@dataclass(frozen=True)
class Result:
    """One event's verdict; ``topic``/``key`` are where an accepted event goes."""

    index: int
    raw: bytes
    event_id: str | None
    status: str  # "accepted" or "rejected" (or "failed" when Kafka did not confirm it)
    reason: str | None = None
    detail: str | None = None
    topic: str | None = None
    key: bytes | None = None

    def answer(self) -> dict[str, Any]:
        """The result as the response lists it."""
        out: dict[str, Any] = {
            "index": self.index,
            "event_id": self.event_id,
            "status": self.status,
        }
        if self.reason is not None:
            out["reason"], out["reason_detail"] = self.reason, self.detail
        return out


def _array_spans(text: str, max_events: int) -> list[str]:
    """The exact text of each element of a JSON array; ValueError when it is not one."""
    i = _WS.match(text, 1).end()
    spans: list[str] = []
    if text.startswith("]", i):
        i += 1
    else:
        while True:
            _, end = _ARRAY_DECODER.raw_decode(text, i)
            spans.append(text[i:end])
            if len(spans) > max_events:
                raise BodyError(
                    413, "too_many_events", f"more than {max_events} events in one request"
                )
            i = _WS.match(text, end).end()
            if text.startswith(",", i):
                i = _WS.match(text, i + 1).end()
            elif text.startswith("]", i):
                i += 1
                break
            else:
                raise ValueError(f"Expecting ',' delimiter: char {i}")
    if _WS.match(text, i).end() != len(text):
        raise ValueError(f"Extra data: char {i}")
    return spans


def split_body(body: bytes, *, max_events: int) -> list[bytes]:
    """The events of a body, each as the bytes the client sent.

    An array of more than ``max_events`` raises :class:`BodyError` (413,
    ``too_many_events``); the body's size is bounded before it is read (see app).

    A body that is not a JSON array is one event (the validator names what is
    wrong with it). An array that does not parse raises :class:`BodyError` with
    the contract's own reason and wording (``not_json``, ``not_utf8``).
    """
    stripped = body.lstrip(b" \t\n\r")
    if not stripped.startswith(b"["):
        return [body]
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(
            400, "not_utf8", details.NOT_UTF8 % f"{exc.reason} at byte {exc.start}"
        ) from None
    try:
        return [span.encode("utf-8") for span in _array_spans(text, max_events)]
    except (ValueError, RecursionError) as exc:
        raise BodyError(400, "not_json", details.NOT_JSON % str(exc)[:200]) from None


def _claimed_id(raw: bytes) -> str | None:
    """The ``event_id`` a rejected event claims, when it has a readable one."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    value = doc.get("event_id") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None


def judge(events: list[bytes], *, now: datetime, rules: Rules, topic_prefix: str) -> list[Result]:
    """Each event's verdict by the reference validator, with its topic and key if valid."""
    out = []
    for i, raw in enumerate(events):
        verdict = check_event(raw, now=now, rules=rules)
        ev = verdict.event
        if ev is None:
            out.append(Result(i, raw, _claimed_id(raw), "rejected", verdict.reason, verdict.detail))
            continue
        topic = topic_for(ev["event_type"], rules, topic_prefix)
        # keyed by user_id, as streaming.producer does: one user's events stay in order
        out.append(
            Result(i, raw, ev["event_id"], "accepted", topic=topic, key=ev["user_id"].encode())
        )
    return out


# Reasons that mean a single-event body is not JSON at all: 400, as for a broken batch.
_UNREADABLE = {"not_json": 400, "not_utf8": 400, "oversize": 413}


def status_for(body: bytes, results: list[Result]) -> int:
    """202 when all were accepted; 400/413 when a one-event body is unreadable; else 422."""
    if all(r.status == "accepted" for r in results):
        return 202
    if len(results) == 1 and not body.lstrip(b" \t\n\r").startswith(b"["):
        return _UNREADABLE.get(results[0].reason or "", 422)
    return 422
