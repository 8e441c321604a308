"""The MongoDB extractor against FerretDB and PostgreSQL: incremental, resumable, no duplicates."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bson import Decimal128, ObjectId

from extract.mongo import load
from extract.mongo.load import decode_bookmark, encode_bookmark, json_safe, run_mongo_extract
from moviepipe import db
from moviepipe.services import mongo


def test_json_safe_converts_bson_values():
    oid = ObjectId("65a1b2c3d4e5f60718293a4b")
    doc = {
        "_id": oid,
        "at": datetime(2026, 1, 2, 3, 4, 5),  # naive, as pymongo returns: UTC
        "price": Decimal128(Decimal("9.99")),
        "raw": b"\x00\x01",
        "nan": math.nan,
        "nested": [{"n": 1, "ok": True, "none": None}],
    }
    out = json_safe(doc)
    assert out == {
        "_id": "65a1b2c3d4e5f60718293a4b",
        "at": "2026-01-02T03:04:05+00:00",
        "price": "9.99",
        "raw": "AAE=",
        "nan": "nan",
        "nested": [{"n": 1, "ok": True, "none": None}],
    }
    json.dumps(out, allow_nan=False)  # strict JSON, as jsonb needs


def test_bookmark_keeps_the_id_type():
    oid = ObjectId()
    assert decode_bookmark(encode_bookmark(oid)) == oid
    assert decode_bookmark(encode_bookmark("user_watch_log:1:42")) == "user_watch_log:1:42"
    assert decode_bookmark(encode_bookmark(7)) == 7
    assert decode_bookmark(None) is None


def _logs(n: int, start: int = 0) -> list[dict]:
    # The streaming backup's shape: _id from Kafka coordinates, not zero-padded.
    return [
        {
            "_id": f"user_watch_log:0:{i}",
            "topic": "user_watch_log",
            "partition": 0,
            "offset": i,
            "kafka_timestamp": datetime(2026, 1, 1, tzinfo=UTC),
            "event": {"user_id": f"u{i}"},
        }
        for i in range(start, start + n)
    ]


def _rows(settings, table):
    with db.connect(settings, "admin") as conn:
        return dict(conn.execute(f"select doc_id, document from {table}").fetchall())


def _bookmark(settings, name):
    with db.connect(settings, "admin") as conn:
        row = conn.execute("select value from ops.bookmarks where name = %s", (name,)).fetchone()
    return decode_bookmark(row[0]) if row else None


@pytest.mark.integration
def test_copies_incrementally_and_is_idempotent(ex_settings, mongo_db_name):
    with mongo.client(ex_settings) as mc:
        mc[mongo_db_name]["user_logs"].insert_many(_logs(25))
        comments = [
            {"_id": ObjectId(), "text": f"c{i}", "at": datetime(2026, 1, 1)} for i in range(7)
        ]
        mc[mongo_db_name]["comments"].insert_many(comments)
        first = run_mongo_extract(ex_settings, mongo_db=mongo_db_name, batch_size=10)
        assert first.collections["user_logs"].copied == 25
        assert first.collections["user_logs"].batches == 3
        assert first.collections["comments"].copied == 7
        again = run_mongo_extract(ex_settings, mongo_db=mongo_db_name, batch_size=10)
        assert again.collections["user_logs"].copied == 0
        assert again.collections["user_logs"].batches == 0  # started from the bookmark
        late = ObjectId()
        mc[mongo_db_name]["comments"].insert_one({"_id": late, "text": "late"})
        third = run_mongo_extract(ex_settings, mongo_db=mongo_db_name, batch_size=10)
    assert third.collections["comments"].copied == 1
    logs = _rows(ex_settings, "raw.mongo_user_logs")
    assert len(logs) == 25
    assert logs["user_watch_log:0:3"]["event"] == {"user_id": "u3"}
    assert logs["user_watch_log:0:3"]["kafka_timestamp"] == "2026-01-01T00:00:00+00:00"
    in_pg = _rows(ex_settings, "raw.mongo_comments")
    assert set(in_pg) == {str(c["_id"]) for c in comments} | {str(late)}
    assert in_pg[str(comments[0]["_id"])]["at"] == "2026-01-01T00:00:00+00:00"
    assert isinstance(_bookmark(ex_settings, "mongo.comments"), ObjectId)


@pytest.mark.integration
def test_crash_between_batches_resumes_without_loss_or_duplicates(
    ex_settings, mongo_db_name, monkeypatch
):
    with mongo.client(ex_settings) as mc:
        mc[mongo_db_name]["user_logs"].insert_many(_logs(30))
    real_insert = load.insert_batch
    calls = {"n": 0}

    def crash_on_third_batch(conn, table, docs, run_id):
        calls["n"] += 1
        added = real_insert(conn, table, docs, run_id)
        if calls["n"] == 3:  # inside the third batch's transaction, after its insert
            raise KeyboardInterrupt("simulated kill")
        return added

    monkeypatch.setattr(load, "insert_batch", crash_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        run_mongo_extract(
            ex_settings, collections=["user_logs"], mongo_db=mongo_db_name, batch_size=8
        )
    landed = _rows(ex_settings, "raw.mongo_user_logs")
    assert len(landed) == 16  # two committed batches; the third rolled back with its bookmark
    assert _bookmark(ex_settings, "mongo.user_logs") == max(landed)
    monkeypatch.setattr(load, "insert_batch", real_insert)
    summary = run_mongo_extract(
        ex_settings, collections=["user_logs"], mongo_db=mongo_db_name, batch_size=8
    )
    assert summary.collections["user_logs"].copied == 14
    assert summary.collections["user_logs"].already_present == 0
    assert sorted(_rows(ex_settings, "raw.mongo_user_logs")) == sorted(d["_id"] for d in _logs(30))
    with db.connect(ex_settings, "admin") as conn:
        statuses = [
            r[0] for r in conn.execute("select status from ops.run_log order by started_at")
        ]
    assert statuses == ["failed", "succeeded"]


@pytest.mark.integration
def test_ids_below_the_bookmark_are_swept_in(ex_settings, mongo_db_name):
    """Kafka-coordinate ids are not increasing as text: offset 10 sorts before offset 9."""
    with mongo.client(ex_settings) as mc:
        coll = mc[mongo_db_name]["user_logs"]
        coll.insert_many(_logs(10))  # offsets 0..9: bookmark ends at "user_watch_log:0:9"
        run_mongo_extract(ex_settings, collections=["user_logs"], mongo_db=mongo_db_name)
        coll.insert_many(_logs(5, start=10))  # "user_watch_log:0:10" < "user_watch_log:0:9"
        summary = run_mongo_extract(ex_settings, collections=["user_logs"], mongo_db=mongo_db_name)
    assert summary.collections["user_logs"].swept == 5
    assert len(_rows(ex_settings, "raw.mongo_user_logs")) == 15


@pytest.mark.integration
def test_cli_mongo_command(ex_settings, mongo_db_name):
    from click.testing import CliRunner

    from extract.cli import extract

    with mongo.client(ex_settings) as mc:
        mc[mongo_db_name]["comments"].insert_many(
            [{"_id": f"user_comment_log:1:{i}", "event": {"text": "hi"}} for i in range(3)]
        )
    result = CliRunner().invoke(extract, ["mongo", "--mongo-db", mongo_db_name], obj=ex_settings)
    assert result.exit_code == 0, result.output
    assert "comments: 3 copied" in result.output
    assert len(_rows(ex_settings, "raw.mongo_comments")) == 3
