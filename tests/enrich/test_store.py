"""`moviepipe enrich` against the real PostgreSQL: every landing path, idempotence, versions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from enrich.lexicon import LexiconScorer
from enrich.store import make_scorer, run_enrich
from moviepipe import db
from moviepipe.config import Settings
from tests.conftest import fresh_database
from tests.warehouse import fixtures

T0 = fixtures.T0
LANDED = fixtures.event(101, "comment", T0, "u1", 1, {"text": "Wonderful film, I loved it."})
BOTH = fixtures.event(102, "comment", T0, "u1", 1, {"text": "Awful. A boring mess."})
FALLBACK = fixtures.event(103, "comment", T0, "u2", 2, {"text": "Not good at all."})
MONGO = fixtures.event(104, "comment", T0 + timedelta(hours=1), "u3", 3, {"text": "Great fun!"})
WATCH = fixtures.event(105, "watch", T0, "u1", 1, fixtures.watch(10))


class NextVersion(LexiconScorer):
    version = "test-next"


@pytest.fixture
def enrich_db(stack: Settings) -> Iterator[Settings]:
    with fresh_database(stack, "mp_test_enrich") as settings:
        with db.connect(settings, "loader") as conn:
            fixtures.land_events(conn, "raw.user_events", [LANDED, BOTH, WATCH])
            fixtures.land_events(conn, "raw.user_events_fallback", [FALLBACK])
            fixtures.land_backup(
                conn,
                "raw.mongo_comments",
                [
                    fixtures.backup_document(MONGO, "user_comment_log", 1),
                    fixtures.backup_document(BOTH, "user_comment_log", 2),
                    {"_id": "user_comment_log:0:3", "event": {"event_id": "not-a-uuid"}},
                ],
            )
        yield settings


def scores(settings: Settings) -> list[tuple]:
    with db.connect(settings, "admin") as conn:
        return conn.execute(
            "select event_id::text, scorer_name, scorer_version, label, score, run_id"
            " from raw.comment_sentiment order by event_id, scorer_version"
        ).fetchall()


def test_scores_every_path_once_then_nothing(enrich_db: Settings) -> None:
    first = run_enrich(enrich_db, batch_size=2)
    assert first["scored"] == 4
    rows = scores(enrich_db)
    labels = {r[0]: r[3] for r in rows}
    assert labels == {
        LANDED["event_id"]: "positive",
        BOTH["event_id"]: "negative",
        FALLBACK["event_id"]: "negative",
        MONGO["event_id"]: "positive",
    }
    assert run_enrich(enrich_db)["scored"] == 0
    assert scores(enrich_db) == rows


def test_new_version_rescores_and_switching_back_too(enrich_db: Settings) -> None:
    run_enrich(enrich_db)
    assert run_enrich(enrich_db, scorer=NextVersion())["scored"] == 4
    versions = {r[2] for r in scores(enrich_db)}
    assert versions == {LexiconScorer.version, "test-next"}
    assert len(scores(enrich_db)) == 8
    assert run_enrich(enrich_db, scorer=NextVersion())["scored"] == 0
    # the old version is current again only after it scores again (latest scored_at wins)
    assert run_enrich(enrich_db)["scored"] == 4
    assert len(scores(enrich_db)) == 8


def test_unknown_scorer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown scorer 'nope'"):
        make_scorer("nope")


def test_cli_reports_json_and_fails_clearly(enrich_db: Settings) -> None:
    from tests.warehouse.conftest import moviepipe

    ok = moviepipe(enrich_db, "enrich", "--json")
    assert ok.returncode == 0, ok.stderr
    assert '"scored": 4' in ok.stdout
    again = moviepipe(enrich_db, "enrich")
    assert again.returncode == 0 and "scored 0 comments with lexicon" in again.stdout
    bad = moviepipe(enrich_db, "enrich", "--scorer", "nope")
    assert bad.returncode == 1
    assert "error: enrich failed: unknown scorer 'nope'" in bad.stderr
    assert "Traceback" not in bad.stderr
