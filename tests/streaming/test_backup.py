"""streaming.backup.backup_document: what MongoDB gets for each kind of message."""

from __future__ import annotations

import base64
import json

from bson import BSON

from streaming.backup import backup_document
from tests.streaming.conftest import NOW, event, raw


def _doc(value: bytes, rules, topic: str = "user_watch_log") -> dict:
    msg = {"key": b"42", "value": value, "topic": topic, "partition": 1, "offset": 7,
           "timestamp": NOW}  # fmt: skip
    return backup_document(msg, rules, NOW)


def test_valid_event_is_stored_decoded(rules):
    e = event()
    doc = _doc(raw(e), rules)
    assert doc["valid"] and doc["event"] == e and "raw_value_b64" not in doc
    assert doc["_id"] == "user_watch_log:00001:00000000000000000007"


def test_lone_surrogate_is_kept_as_bytes(rules):
    value = raw(event())[:-2] + b', "x": "\\ud800"}}'
    doc = _doc(value, rules)
    assert doc["reason"] == "bad_unicode" and "event" not in doc
    assert base64.b64decode(doc["raw_value_b64"]) == value
    BSON.encode(doc)  # what the insert will do


def test_too_deep_for_mongodb_is_kept_as_bytes(rules):
    nested: dict = {}
    for _ in range(120):
        nested = {"n": nested}
    value = json.dumps(dict(event(), extra=nested)).encode()
    doc = _doc(value, rules)
    assert doc["valid"] and "event" not in doc
    assert base64.b64decode(doc["raw_value_b64"]) == value


def test_keys_mongodb_refuses_are_kept_as_bytes(rules):
    value = json.dumps(dict(event(), **{"$where": 1})).encode()
    doc = _doc(value, rules)
    assert "event" not in doc and doc["raw_value_b64"]
