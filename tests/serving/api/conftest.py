"""API fixtures: one gold database for the session and a real uvicorn serving it.

``api_url`` is the base URL of a uvicorn server (in a thread, its own event loop,
one worker) running ``create_app`` over the gold database built from the
warehouse fixtures by the real CLI (tests/conftest.py ``gold_settings``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from moviepipe.config import Settings
from moviepipe.tunables import ApiTunables
from serving.api import create_app


class ThreadServer:
    """uvicorn on an ephemeral loopback port, in a daemon thread."""

    def __init__(self, app) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def api_gold(gold_settings: Settings) -> Settings:
    """The serving packages' shared gold build (tests/serving/conftest.py)."""
    return gold_settings


@pytest.fixture(scope="session")
def api_url(api_gold: Settings) -> Iterator[str]:
    app = create_app(api_gold, ApiTunables(pool_min_size=2, pool_max_size=6))
    with ThreadServer(app) as url:
        yield url


@pytest.fixture
def client(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=30) as c:
        yield c
