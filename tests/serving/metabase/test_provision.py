"""Metabase provisioning against a stateful fake of its API: setup, connection, questions,
dashboard; a second run creates nothing; a changed definition updates in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import SecretStr

from moviepipe.config import Settings, load_settings
from serving.metabase.cli import metabase
from serving.metabase.client import MetabaseClient, MetabaseError
from serving.metabase.definition import (
    DEFINITION_FILE,
    DefinitionError,
    load_definition,
)
from serving.metabase.provision import Admin, provision
from tests.serving.metabase.fake_metabase import FakeMetabase

ADMIN = Admin("admin@moviepipe.test", "s3cret-admin-pw")
READER_PASSWORD = "s3cret-reader-pw"
CONNECTION = {
    "host": "postgres",
    "port": 5432,
    "dbname": "moviepipe",
    "user": "moviepipe_reader",
    "password": READER_PASSWORD,
}
# Calls that make a new object in Metabase.
CREATING = {
    ("POST", "/api/setup"),
    ("POST", "/api/database"),
    ("POST", "/api/card"),
    ("POST", "/api/dashboard"),
}


def run(mb: FakeMetabase, definition_file: Path = DEFINITION_FILE):
    with MetabaseClient(mb.url, secrets=[ADMIN.password, READER_PASSWORD]) as client:
        return provision(client, load_definition(definition_file), ADMIN, CONNECTION)


@pytest.fixture
def mb():
    with FakeMetabase() as fake:
        yield fake


def test_first_run_builds_everything_the_file_defines(mb):
    definition = load_definition()
    items = run(mb)

    assert [(i.kind, i.action) for i in items][:2] == [
        ("admin", "created"),
        ("database", "created"),
    ]
    assert mb.admin == {"email": ADMIN.email, "password": ADMIN.password}
    # The connection: reader role, only the gold schema, then a sync.
    [db] = mb.databases.values()
    assert db["name"] == definition.database.name
    assert db["details"]["user"] == "moviepipe_reader"
    assert db["details"]["password"] == READER_PASSWORD
    assert db["details"]["schema-filters-type"] == "inclusion"
    assert db["details"]["schema-filters-patterns"] == "gold"
    assert mb.synced == [db["id"]]
    # One native card per question, on that database.
    assert sorted(c["name"] for c in mb.cards.values()) == sorted(
        q.name for q in definition.questions
    )
    for card in mb.cards.values():
        assert card["dataset_query"]["database"] == db["id"]
        assert "from gold." in card["dataset_query"]["native"]["query"]
    # One dashboard whose cards sit where the file puts them.
    [dash] = mb.dashboards.values()
    assert dash["name"] == definition.dashboard.name
    by_id = {c["id"]: c["name"] for c in mb.cards.values()}
    placed = sorted(
        (by_id[c["card_id"]], c["row"], c["col"], c["size_x"], c["size_y"])
        for c in dash["dashcards"]
    )
    wanted = sorted(
        (c.question, c.row, c.col, c.size_x, c.size_y) for c in definition.dashboard.cards
    )
    assert placed == wanted
    # New dashcards were sent with negative ids (Metabase's "create").
    [put] = [b for m, p, b in mb.bodies if m == "PUT" and p == f"/api/dashboard/{dash['id']}"]
    assert all(c["id"] < 0 for c in put["dashcards"])


def test_second_run_creates_nothing_and_changes_nothing(mb):
    run(mb)
    before = (
        json.dumps(mb.cards, sort_keys=True),
        json.dumps(mb.dashboards, sort_keys=True),
        sorted(mb.databases),
    )
    first_calls = len(mb.calls)

    items = run(mb)

    second = mb.calls[first_calls:]
    assert not CREATING & set(second), second
    assert ("POST", "/api/session") in second  # logged in, not set up again
    edits = [p for m, p in second if m == "PUT" and p.startswith(("/api/card", "/api/dashboard"))]
    assert not edits
    after = (
        json.dumps(mb.cards, sort_keys=True),
        json.dumps(mb.dashboards, sort_keys=True),
        sorted(mb.databases),
    )
    assert after == before
    assert {i.action for i in items if i.kind in ("question", "dashboard")} == {"unchanged"}


def test_changed_definition_updates_in_place(mb, tmp_path):
    run(mb)
    card_ids = {c["name"]: c["id"] for c in mb.cards.values()}
    [dash] = mb.dashboards.values()
    dashcard_ids = sorted(c["id"] for c in dash["dashcards"])

    raw = yaml.safe_load(DEFINITION_FILE.read_text())
    question = raw["questions"][0]
    question["sql"] = question["sql"].replace("order by rank", "order by rank limit 5")
    first = raw["dashboard"]["cards"][0]
    first["size_y"] = 9
    dropped = raw["dashboard"]["cards"].pop()
    changed = tmp_path / "dashboard.yml"
    changed.write_text(yaml.safe_dump(raw, allow_unicode=True))

    items = run(mb, changed)

    assert {c["name"]: c["id"] for c in mb.cards.values()} == card_ids  # no new card
    edited = mb.cards[card_ids[question["name"]]]
    assert "limit 5" in edited["dataset_query"]["native"]["query"]
    assert [i.action for i in items if i.name == question["name"]] == ["updated"]
    [dash] = mb.dashboards.values()
    kept = sorted(c["id"] for c in dash["dashcards"])
    assert set(kept) < set(dashcard_ids) and len(kept) == len(dashcard_ids) - 1
    assert card_ids[dropped["question"]] not in {c["card_id"] for c in dash["dashcards"]}
    resized = [c for c in dash["dashcards"] if c["card_id"] == card_ids[first["question"]]]
    assert [c["size_y"] for c in resized] == [9]


def test_wrong_admin_password_is_a_clear_error_without_the_secret(mb):
    run(mb)
    wrong = Admin(ADMIN.email, "wrong-password-xyz")
    with (
        MetabaseClient(mb.url, secrets=[wrong.password]) as client,
        pytest.raises(MetabaseError) as err,
    ):
        provision(client, load_definition(), wrong, CONNECTION)
    assert "POST /api/session: HTTP 401" in str(err.value)
    assert "wrong-password-xyz" not in str(err.value)


def test_unreachable_metabase_names_the_address():
    with (
        MetabaseClient("http://127.0.0.1:9", timeout=2) as client,
        pytest.raises(MetabaseError, match="GET /api/session/properties"),
    ):
        provision(client, load_definition(), ADMIN, CONNECTION)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda raw: raw["dashboard"]["cards"][0].update(question="Nope"), "unknown questions"),
        (lambda raw: raw["dashboard"]["cards"][0].update(col=20, size_x=12), "24-column grid"),
        (lambda raw: raw["questions"].append(raw["questions"][0]), "named twice"),
        (lambda raw: raw["questions"][0].update(display="sparkles"), "display"),
    ],
)
def test_bad_definition_is_refused(tmp_path, edit, message):
    raw = yaml.safe_load(DEFINITION_FILE.read_text())
    edit(raw)
    bad = tmp_path / "dashboard.yml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(DefinitionError, match=message):
        load_definition(bad)


def env_settings() -> Settings:
    """The settings as the command line loads them from the environment (read once)."""
    return load_settings().model_copy(
        update={"moviepipe_reader_password": SecretStr(READER_PASSWORD), "pgdatabase": "moviepipe"}
    )


def test_cli_provisions_from_the_environment_and_prints_no_secret(mb, monkeypatch):
    monkeypatch.setenv("METABASE_ADMIN_EMAIL", ADMIN.email)
    monkeypatch.setenv("METABASE_ADMIN_PASSWORD", ADMIN.password)
    settings = env_settings()
    runner = CliRunner()
    args = ["provision", "--url", mb.url, "--db-host", "postgres", "--db-port", "5432", "--json"]

    result = runner.invoke(metabase, args, obj=settings)
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert {d["action"] for d in done if d["kind"] == "question"} == {"created"}
    [db] = mb.databases.values()
    assert (db["details"]["host"], db["details"]["port"]) == ("postgres", 5432)

    again = runner.invoke(metabase, args[:-1], obj=settings)
    assert again.exit_code == 0, again.output
    assert "unchanged" in again.output
    for output in (result.output, again.output):
        assert ADMIN.password not in output and READER_PASSWORD not in output

    monkeypatch.setenv("METABASE_ADMIN_PASSWORD", "not-the-password")
    wrong = runner.invoke(metabase, args, obj=env_settings())
    assert wrong.exit_code == 1
    assert "error: metabase: POST /api/session: HTTP 401" in wrong.output
    assert "not-the-password" not in wrong.output

    monkeypatch.delenv("METABASE_ADMIN_PASSWORD")
    missing = runner.invoke(metabase, args, obj=env_settings())
    assert missing.exit_code == 2
    assert "METABASE_ADMIN_PASSWORD" in missing.output
