"""A small stateful fake of Metabase's REST API on loopback, for the provisioning tests.

Metabase cannot be installed here, so this server plays the endpoints provisioning
uses, with Metabase's shapes: it checks each call's method, path, session header and
body (answering 400/401/404 as Metabase would), keeps the objects it was given, and
records every call.

Usage::

    with FakeMetabase() as mb:
        provision(MetabaseClient(mb.url), ...)
        mb.calls            # [("GET", "/api/session/properties"), ...]
        mb.cards, mb.dashboards, mb.databases
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

GRID_COLUMNS = 24
DISPLAYS = {"table", "bar", "line", "row", "pie", "scalar", "area"}
OBFUSCATED = "**MetabasePass**"  # what Metabase returns instead of a stored password


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _require(condition: bool, message: str, status: int = 400) -> None:
    if not condition:
        raise ApiError(status, message)


class FakeMetabase:
    def __init__(self) -> None:
        self.setup_token: str | None = str(uuid.uuid4())
        self.admin: dict[str, str] | None = None
        self.sessions: set[str] = set()
        self.databases: dict[int, dict[str, Any]] = {}
        self.cards: dict[int, dict[str, Any]] = {}
        self.dashboards: dict[int, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.bodies: list[tuple[str, str, Any]] = []
        self.synced: list[int] = []
        self._next_id = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeMetabase:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # ---- dispatch ------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet test output
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                    with fake._lock:
                        fake.calls.append((method, parts.path))
                        fake.bodies.append((method, parts.path, body))
                        session = self.headers.get("X-Metabase-Session")
                        status, answer = (
                            200,
                            fake.route(method, parts.path, parse_qs(parts.query), body, session),
                        )
                except ApiError as exc:
                    status, answer = exc.status, {"message": str(exc)}
                except json.JSONDecodeError:
                    status, answer = 400, {"message": "body is not JSON"}
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

        return Handler

    def route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, session: str | None
    ) -> Any:
        if (method, path) == ("GET", "/api/session/properties"):
            return {"setup-token": self.setup_token, "has-user-setup": self.admin is not None}
        if (method, path) == ("POST", "/api/setup"):
            return self.setup(body)
        if (method, path) == ("POST", "/api/session"):
            return self.login(body)
        _require(session in self.sessions, "Unauthenticated", 401)
        if (method, path) == ("GET", "/api/database"):
            rows = [self.public_database(db) for db in self.databases.values()]
            return {"data": rows, "total": len(rows)}
        if (method, path) == ("POST", "/api/database"):
            return self.save_database(self.new_id(), body)
        if match := re.fullmatch(r"/api/database/(\d+)(/sync_schema)?", path):
            db_id = int(match[1])
            _require(db_id in self.databases, "Not found.", 404)
            if method == "PUT" and not match[2]:
                return self.save_database(db_id, body)
            if method == "POST" and match[2]:
                self.synced.append(db_id)
                return {"status": "ok"}
        if (method, path) == ("GET", "/api/card"):
            _require(query.get("f") == ["all"], "f must be all")
            return list(self.cards.values())
        if (method, path) == ("POST", "/api/card"):
            return self.save_card(self.new_id(), body)
        if (match := re.fullmatch(r"/api/card/(\d+)", path)) and method == "PUT":
            _require(int(match[1]) in self.cards, "Not found.", 404)
            return self.save_card(int(match[1]), body)
        if (method, path) == ("GET", "/api/dashboard/"):
            return [self.summary(d) for d in self.dashboards.values()]
        if (method, path) == ("POST", "/api/dashboard"):
            return self.create_dashboard(body)
        if match := re.fullmatch(r"/api/dashboard/(\d+)", path):
            dash = self.dashboards.get(int(match[1]))
            _require(dash is not None, "Not found.", 404)
            if method == "GET":
                return dash
            if method == "PUT":
                return self.update_dashboard(dash, body)
        raise ApiError(404, f"API endpoint does not exist: {method} {path}")

    # ---- endpoints -----------------------------------------------------
    def setup(self, body: dict[str, Any]) -> dict[str, str]:
        _require(self.admin is None, "/api/setup can only create the first user", 403)
        _require(body.get("token") == self.setup_token, "Token does not match the setup token.")
        user = body.get("user") or {}
        _require("@" in (user.get("email") or ""), "value must be a valid email address.")
        _require(len(user.get("password") or "") >= 6, "password is too common.")
        _require(bool((body.get("prefs") or {}).get("site_name")), "site_name must be non-blank")
        self.admin = {"email": user["email"], "password": user["password"]}
        self.setup_token = None
        return {"id": self.new_session()}

    def login(self, body: dict[str, Any]) -> dict[str, str]:
        ok = self.admin and body == {
            "username": self.admin["email"],
            "password": self.admin["password"],
        }
        _require(bool(ok), "did not match stored password", 401)
        return {"id": self.new_session()}

    def new_session(self) -> str:
        session = str(uuid.uuid4())
        self.sessions.add(session)
        return session

    def save_database(self, db_id: int, body: dict[str, Any]) -> dict[str, Any]:
        _require(body.get("engine") == "postgres", "value must be a valid database engine.")
        _require(bool(body.get("name")), "name must be non-blank")
        details = body.get("details") or {}
        for key in ("host", "port", "dbname", "user", "password"):
            _require(details.get(key) not in (None, ""), f"details.{key} is required")
        _require(details.get("schema-filters-type") == "inclusion", "schema filter must include")
        self.databases[db_id] = {**body, "id": db_id}
        return self.public_database(self.databases[db_id])

    @staticmethod
    def public_database(db: dict[str, Any]) -> dict[str, Any]:
        return {**db, "details": {**db["details"], "password": OBFUSCATED}}

    def save_card(self, card_id: int, body: dict[str, Any]) -> dict[str, Any]:
        _require(bool(body.get("name")), "name must be non-blank")
        _require(body.get("display") in DISPLAYS, "display must be a known visualization")
        settings = body.get("visualization_settings")
        _require(isinstance(settings, dict), "visualization_settings must be a map")
        query = body.get("dataset_query") or {}
        _require(query.get("type") == "native", "only native questions here")
        _require(query.get("database") in self.databases, "database does not exist")
        native = query.get("native") or {}
        _require(bool(native.get("query")), "native query must be non-blank")
        stored = {
            **self.cards.get(card_id, {"collection_id": None, "archived": False}),
            **body,
            "id": card_id,
            # Metabase normalizes the stored query and adds keys of its own.
            "dataset_query": {**query, "native": {"template-tags": {}, **native}, "parameters": []},
        }
        self.cards[card_id] = stored
        return stored

    def create_dashboard(self, body: dict[str, Any]) -> dict[str, Any]:
        _require(bool(body.get("name")), "name must be non-blank")
        unexpected = set(body) - {"name", "description", "parameters", "collection_id"}
        _require(not unexpected, f"unexpected keys {unexpected}")
        dash_id = self.new_id()
        self.dashboards[dash_id] = {
            "id": dash_id,
            "name": body["name"],
            "description": body.get("description"),
            "archived": False,
            "parameters": body.get("parameters") or [],
            "dashcards": [],
        }
        return self.summary(self.dashboards[dash_id])

    @staticmethod
    def summary(dash: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in dash.items() if k != "dashcards"}

    def update_dashboard(self, dash: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if "dashcards" in body:
            dash["dashcards"] = self.replace_dashcards(dash, body["dashcards"])
        for key in ("name", "description"):
            if key in body:
                dash[key] = body[key]
        return dash

    def replace_dashcards(
        self, dash: dict[str, Any], wanted: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        current = {c["id"]: c for c in dash["dashcards"]}
        ids = [c.get("id") for c in wanted]
        _require(all(isinstance(i, int) for i in ids), "every dashcard needs an integer id")
        _require(len(ids) == len(set(ids)), "value must be seq of maps in which ids are unique")
        out = []
        for card in wanted:
            _require(card.get("card_id") in self.cards, f"no card {card.get('card_id')}")
            for key in ("row", "col", "size_x", "size_y"):
                _require(isinstance(card.get(key), int) and card[key] >= 0, f"{key} must be an int")
            _require(card["col"] + card["size_x"] <= GRID_COLUMNS, "dashcard is off the grid")
            if card["id"] > 0:
                _require(card["id"] in current, f"dashcard {card['id']} is not on this dashboard")
                dashcard_id = card["id"]
            else:
                dashcard_id = self.new_id()
            out.append({**card, "id": dashcard_id, "dashboard_id": dash["id"]})
        return out
