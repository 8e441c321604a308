"""Provision Metabase from ``dashboard.yml`` through its REST API, idempotently.

1. setup: the first admin (``POST /api/setup`` with the token of
   ``GET /api/session/properties``) on a fresh Metabase, a login otherwise;
2. the warehouse connection (reader role, schema filter on ``gold`` only),
   found by name, created or updated, then a schema sync;
3. every question (native SQL card), found by name, created or updated if changed;
4. the dashboard, found by name or created, its cards set with one
   ``PUT /api/dashboard/:id`` and a ``dashcards`` list when they differ.

Running it again creates nothing: every object is looked up by name first.

Usage::

    from serving.metabase.provision import Admin, provision
    report = provision(client, definition, Admin(email, password), connection)
    for item in report: print(item.kind, item.name, item.action)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from serving.metabase import definition as d
from serving.metabase.client import MetabaseClient, listing

Action = Literal["created", "updated", "unchanged", "logged in"]


@dataclass(frozen=True)
class Admin:
    email: str
    password: str
    site_name: str = "moviepipe"


@dataclass(frozen=True)
class Item:
    kind: Literal["admin", "database", "question", "dashboard"]
    name: str
    id: int | None
    action: Action

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "id": self.id, "action": self.action}


def ensure_admin(client: MetabaseClient, admin: Admin) -> Item:
    properties = client.get("/api/session/properties")
    token = properties.get("setup-token")
    if token and not properties.get("has-user-setup"):
        answer = client.post(
            "/api/setup", d.setup_body(token, admin.email, admin.password, admin.site_name)
        )
        client.use_session(answer["id"])
        return Item("admin", admin.email, None, "created")
    client.login(admin.email, admin.password)
    return Item("admin", admin.email, None, "logged in")


def _by_name(rows: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    live = [r for r in rows if r.get("name") == name and not r.get("archived")]
    return min(live, key=lambda r: r["id"]) if live else None


def ensure_database(client: MetabaseClient, db: d.DatabaseDef, connection: dict[str, Any]) -> Item:
    body = d.database_body(db, connection)
    found = _by_name(listing(client.get("/api/database")), db.name)
    if found is None:
        database_id, action = client.post("/api/database", body)["id"], "created"
    else:
        # Always sent: Metabase never returns the stored password, so a rotated
        # reader password can only be detected by sending it.
        database_id, action = found["id"], "updated"
        client.put(f"/api/database/{database_id}", body)
    client.post(f"/api/database/{database_id}/sync_schema")
    return Item("database", db.name, database_id, action)


def ensure_questions(
    client: MetabaseClient, questions: list[d.QuestionDef], database_id: int
) -> list[Item]:
    cards = listing(client.get("/api/card", f="all"))
    items = []
    for question in questions:
        body = d.card_body(question, database_id)
        found = _by_name(cards, question.name)
        if found is None:
            card = client.post("/api/card", body)
            items.append(Item("question", question.name, card["id"], "created"))
        elif d.card_differs(found, body):
            client.put(f"/api/card/{found['id']}", body)
            items.append(Item("question", question.name, found["id"], "updated"))
        else:
            items.append(Item("question", question.name, found["id"], "unchanged"))
    return items


def ensure_dashboard(
    client: MetabaseClient, dashboard: d.DashboardDef, card_ids: dict[str, int]
) -> Item:
    found = _by_name(listing(client.get("/api/dashboard/", f="all")), dashboard.name)
    action: Action = "unchanged"
    if found is None:
        body = {"name": dashboard.name, "description": dashboard.description, "parameters": []}
        dashboard_id, action = client.post("/api/dashboard", body)["id"], "created"
    else:
        dashboard_id = found["id"]
    current = client.get(f"/api/dashboard/{dashboard_id}")
    existing = current.get("dashcards") or []
    wanted = d.dashcards(dashboard.cards, card_ids, existing)
    if d.dashcards_differ(existing, wanted) or current.get("description") != (
        dashboard.description
    ):
        client.put(
            f"/api/dashboard/{dashboard_id}",
            {"name": dashboard.name, "description": dashboard.description, "dashcards": wanted},
        )
        action = "created" if action == "created" else "updated"
    return Item("dashboard", dashboard.name, dashboard_id, action)


def provision(
    client: MetabaseClient,
    definition: d.Definition,
    admin: Admin,
    connection: dict[str, Any],
) -> list[Item]:
    """Every step in order; returns what each did. Raises MetabaseError on a failed call."""
    items = [ensure_admin(client, admin)]
    database = ensure_database(client, definition.database, connection)
    items.append(database)
    assert database.id is not None
    questions = ensure_questions(client, definition.questions, database.id)
    items.extend(questions)
    card_ids = {q.name: q.id for q in questions if q.id is not None}
    items.append(ensure_dashboard(client, definition.dashboard, card_ids))
    return items
