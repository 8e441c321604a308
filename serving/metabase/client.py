"""A small Metabase REST client on ``requests``: JSON in, JSON out, one session header.

Errors name the call and Metabase's message; the secrets the client was given are
masked in them, and request bodies are never logged.

Usage::

    client = MetabaseClient("http://127.0.0.1:3000", secrets=[password])
    client.login(email, password)
    client.get("/api/card", f="all")
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests

TIMEOUT_S = 30  # a database PUT makes Metabase test the connection first


class MetabaseError(RuntimeError):
    """A Metabase call failed (not reachable, or a non-2xx answer)."""


class MetabaseClient:
    def __init__(self, url: str, *, secrets: Iterable[str] = (), timeout: float = TIMEOUT_S):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._secrets = [s for s in secrets if s]
        self._http = requests.Session()
        self._http.headers["Content-Type"] = "application/json"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MetabaseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        try:
            response = self._http.request(
                method, self.url + path, json=body, params=params or None, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise MetabaseError(self._mask(f"{method} {path}: {exc}")) from None
        if not response.ok:
            detail = f"HTTP {response.status_code}: {response.text[:500]}"
            raise MetabaseError(self._mask(f"{method} {path}: {detail}"))
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, **params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, body)

    def use_session(self, session_id: str) -> None:
        self._secrets.append(session_id)
        self._http.headers["X-Metabase-Session"] = session_id

    def login(self, email: str, password: str) -> None:
        """``POST /api/session``: a session for the admin user."""
        answer = self.post("/api/session", {"username": email, "password": password})
        self.use_session(answer["id"])


def listing(answer: Any) -> list[dict[str, Any]]:
    """Metabase lists are bare arrays or ``{"data": [...]}`` depending on the endpoint."""
    if isinstance(answer, dict):
        return list(answer.get("data") or [])
    return list(answer or [])
