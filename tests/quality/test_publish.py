"""The blue/green publish against the real PostgreSQL: grants, views, readers, SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from moviepipe import db
from moviepipe.config import Settings
from quality import publish as pub
from tests.conftest import fresh_database

TABLES = ("dim_a", "dim_b")


def _build(settings: Settings, version: int) -> None:
    """A candidate in gold_build whose every table carries ``version``, as dbt would."""
    with db.connect(settings, "transformer", autocommit=True) as conn:
        for t in TABLES:
            conn.execute(f"drop table if exists gold_build.{t}")
            conn.execute(
                f"create table gold_build.{t} as"
                f" select {version} as version, g as n from generate_series(1, 100) g"
            )


def _digest(settings: Settings, schema: str) -> dict[str, str]:
    with db.connect(settings, "admin", autocommit=True) as conn:
        return {
            t: conn.execute(
                f"select md5(string_agg(x::text, '|' order by x::text)) from {schema}.{t} x"
            ).fetchone()[0]
            for t in TABLES
        }


def _reader_versions(settings: Settings) -> set[int]:
    with db.connect(settings, "reader", autocommit=True) as conn:
        q = "select distinct version from gold.dim_a union select distinct version from gold.dim_b"
        return {r[0] for r in conn.execute(q)}


@pytest.fixture
def gold_db(stack: Settings) -> Iterator[Settings]:
    with fresh_database(stack, "mp_test_publish") as settings:
        _build(settings, 1)
        pub.publish(settings)
        _build(settings, 2)
        yield settings


def test_publish_moves_build_to_gold_with_reader_grants(gold_db: Settings) -> None:
    assert _reader_versions(gold_db) == {1}
    pub.publish(gold_db, run_id="r2")
    assert _reader_versions(gold_db) == {2}
    with (
        db.connect(gold_db, "reader", autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("select * from gold_previous.dim_a")
    _build(gold_db, 3)  # the old previous is the next build target
    pub.publish(gold_db)
    assert _reader_versions(gold_db) == {3}
    with db.connect(gold_db, "admin", autocommit=True) as conn:
        actions = [r[0] for r in conn.execute("select action from ops.publish_log")]
    assert actions == ["publish", "publish", "publish"]


def test_rollback_restores_previous_version(gold_db: Settings) -> None:
    before = _digest(gold_db, "gold")
    pub.publish(gold_db)
    assert _digest(gold_db, "gold") != before
    pub.rollback(gold_db)
    assert _digest(gold_db, "gold") == before
    assert _reader_versions(gold_db) == {1}


def test_view_over_gold_follows_the_new_gold(gold_db: Settings) -> None:
    with db.connect(gold_db, "admin", autocommit=True) as conn:
        conn.execute("create schema reporting")
        conn.execute("create view reporting.versions as select version from gold.dim_a")
    pub.publish(gold_db)
    with db.connect(gold_db, "admin", autocommit=True) as conn:
        assert {r[0] for r in conn.execute("select version from reporting.versions")} == {2}


def test_failed_publish_leaves_gold_unchanged(gold_db: Settings) -> None:
    before = _digest(gold_db, "gold")
    with db.connect(gold_db, "transformer", autocommit=True) as conn:
        for t in TABLES:
            conn.execute(f"drop table gold_build.{t}")
    with pytest.raises(pub.PublishError, match="empty"):
        pub.publish(gold_db)
    assert _digest(gold_db, "gold") == before


def test_a_reader_holding_a_lock_delays_then_lets_the_publish_through(gold_db: Settings) -> None:
    messages: list[str] = []
    with db.connect(gold_db, "reader") as conn:
        conn.execute("select count(*) from gold.dim_a")  # holds AccessShare until commit
        timer = threading.Timer(0.4, conn.rollback)
        timer.start()
        result = pub.publish(gold_db, echo=messages.append)
        timer.join()
    assert result.attempts > 1
    assert any("retrying" in m for m in messages)
    assert _reader_versions(gold_db) == {2}


def test_readers_never_fail_nor_see_a_mix_during_publishes(gold_db: Settings) -> None:
    errors: list[str] = []
    seen: list[set[int]] = []
    stop = threading.Event()

    def reader(prepare: bool) -> None:
        with db.connect(gold_db, "reader", autocommit=True) as conn:
            while not stop.is_set():
                try:
                    row = conn.execute(
                        "select (select min(version) from gold.dim_a),"
                        " (select max(version) from gold.dim_b)",
                        prepare=prepare,
                    ).fetchone()
                    seen.append(set(row))
                except psycopg.Error as exc:  # pragma: no cover - the assertion reports it
                    errors.append(str(exc))

    threads = [threading.Thread(target=reader, args=(i % 2 == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    pub.publish(gold_db)
    for _ in range(10):  # each rollback swaps versions 1 and 2
        time.sleep(0.1)
        pub.rollback(gold_db)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert len(seen) > 50
    assert all(len(versions) == 1 for versions in seen), "a query saw two versions"
    assert {v for s in seen for v in s} == {1, 2}


def test_sigkill_mid_publish_leaves_one_consistent_gold(gold_db: Settings) -> None:
    before = _digest(gold_db, "gold")
    build = _digest(gold_db, "gold_build")
    script = (
        "import sys, time\n"
        "from moviepipe.config import load_settings\n"
        "from quality.publish import publish\n"
        f"s = load_settings(pgdatabase={gold_db.pgdatabase!r})\n"
        "publish(s, before_commit=lambda: (print('READY', flush=True), time.sleep(60)))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # The server aborts the dead client's transaction; publish can then proceed.
    with db.connect(gold_db, "admin", autocommit=True) as conn:
        for _ in range(100):
            busy = conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and state like 'idle in transaction%%'"
            ).fetchone()[0]
            if not busy:
                break
            time.sleep(0.05)
    assert _digest(gold_db, "gold") == before
    assert _digest(gold_db, "gold_build") == build
    assert _reader_versions(gold_db) == {1}
    pub.publish(gold_db)
    assert _reader_versions(gold_db) == {2}
