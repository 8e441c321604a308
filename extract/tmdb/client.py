"""TMDB API client: one ``requests`` session, a client-side rate limit, bounded retries.

* Rate limit: ``pyrate-limiter`` (default 40 requests/s, ``tmdb.rate_limit_per_s``), shared
  by all worker threads, so a healthy run never meets a 429.
* Retries (``tenacity``): 429 waits ``Retry-After``; 5xx, timeouts, connection errors and
  truncated or invalid JSON back off exponentially with jitter, at most ``max_retries`` times.
* TMDB's error bodies (``{"success": false, "status_code": N, "status_message": ...}``) are
  read: 401 / code 7 raises :class:`TmdbAuthError` (abort the run), 404 / code 34 raises
  :class:`TmdbNotFound` (record and go on); anything else that still fails raises
  :class:`TmdbRequestFailed`.

Usage::

    client = TmdbClient.from_settings(settings)
    movie = client.movie_details(550)
    page = client.get("/discover/movie", {"page": 1})
    client.stats.snapshot()   # {'requests': .., 'retries': .., 'throttled': ..}
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from typing import Any

import requests
from pydantic import SecretStr
from pyrate_limiter import Duration, InMemoryBucket, Limiter, Rate
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    wait_random_exponential,
)

from moviepipe.config import Settings

DETAIL_APPENDS = "credits,keywords,release_dates"
MAX_RETRY_AFTER_S = 60.0
MAX_THROTTLED_RETRIES = 20
# TMDB status codes (https://developer.themoviedb.org/docs/errors).
CODE_INVALID_KEY = 7
CODE_NOT_FOUND = 34
CODE_RATE_LIMIT = 25


class TmdbError(Exception):
    """A TMDB answer that is not a usable document."""

    def __init__(self, message: str, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class TmdbAuthError(TmdbError):
    """Bad credentials (HTTP 401 / code 7): nothing else will work, stop the run."""


class TmdbNotFound(TmdbError):
    """The resource does not exist (HTTP 404 / code 34)."""


class TmdbRetryable(TmdbError):
    """Transient: 429, 5xx, timeout, connection error, truncated or invalid JSON."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        code: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, status, code)
        self.retry_after = retry_after


class TmdbRequestFailed(TmdbError):
    """Failed for good: retries exhausted, or a client error that retrying cannot fix."""


@dataclass
class ClientStats:
    """Counters shared by the worker threads."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"requests": self.requests, "retries": self.retries, "throttled": self.throttled}


def parse_error_body(text: str) -> tuple[int | None, str]:
    """``(status_code, status_message)`` from a TMDB error body; tolerant of HTML and junk."""
    try:
        body = json.loads(text)
    except ValueError:
        return None, text.strip()[:200]
    if not isinstance(body, dict):
        return None, text.strip()[:200]
    code = body.get("status_code")
    return (code if isinstance(code, int) else None), str(body.get("status_message", ""))[:500]


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (TMDB sends whole seconds); None if unusable."""
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return None  # an HTTP date: fall back to backoff


def classify(status: int, text: str, retry_after: str | None) -> TmdbError | None:
    """The error a response stands for, or None when it is a success (2xx)."""
    if 200 <= status < 300:
        return None
    code, message = parse_error_body(text)
    detail = f"HTTP {status}" + (f" code {code}" if code is not None else "") + f": {message}"
    if status == 401 or code == CODE_INVALID_KEY:
        return TmdbAuthError(detail, status, code)
    if status == 404 or code == CODE_NOT_FOUND:
        return TmdbNotFound(detail, status, code)
    if status == 429 or code == CODE_RATE_LIMIT:
        return TmdbRetryable(detail, status, code, parse_retry_after(retry_after))
    if status >= 500:
        return TmdbRetryable(detail, status, code)
    return TmdbRequestFailed(detail, status, code)


def _secret(value: SecretStr | str | None) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class TmdbClient:
    """Thread-safe: the worker threads share the session pool, the limiter and the stats."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        read_access_token: str | None = None,
        rate_limit_per_s: float = 40,
        concurrency: int = 16,
        timeout_s: float = 10,
        max_retries: int = 5,
        backoff_base_s: float = 0.25,
        backoff_max_s: float = 8.0,
    ):
        if not api_key and not read_access_token:
            raise TmdbAuthError("no TMDB credentials: set TMDB_API_KEY or TMDB_READ_ACCESS_TOKEN")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.max_attempts_429 = max_retries + MAX_THROTTLED_RETRIES
        self.backoff = wait_random_exponential(multiplier=backoff_base_s, max=backoff_max_s)
        self.stats = ClientStats()
        self._params = {"api_key": api_key} if api_key else {}
        self.session = requests.Session()
        if read_access_token and not api_key:
            self.session.headers["Authorization"] = f"Bearer {read_access_token}"
        self.session.headers["Accept"] = "application/json"
        # Retries are tenacity's job (it also sees invalid JSON); the adapter only pools.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(concurrency, 1), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # Any 1 s window holds at most the limit, and any 250 ms at most a quarter of it:
        # no full-second bursts, so the server's bucket keeps slack for network jitter.
        per_s = max(int(rate_limit_per_s), 1)
        rates = [Rate(math.ceil(per_s / 4), 250), Rate(per_s, Duration.SECOND)]
        # buffer_ms: the default 50 ms margin per wait costs ~6% of the allowed rate.
        self.limiter = Limiter(
            InMemoryBucket(rates),
            raise_when_fail=False,
            max_delay=3_600_000,
            retry_until_max_delay=True,
            buffer_ms=2,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TmdbClient:
        options: dict[str, Any] = {
            "api_key": _secret(settings.tmdb_api_key),
            "read_access_token": _secret(settings.tmdb_read_access_token),
            "rate_limit_per_s": settings.tunables.tmdb.rate_limit_per_s,
            "concurrency": settings.tunables.tmdb.concurrency,
            "timeout_s": settings.tunables.tmdb.timeout_s,
            "max_retries": settings.tunables.tmdb.max_retries,
        }
        options.update({k: v for k, v in overrides.items() if v is not None})
        return cls(settings.tmdb_base_url, **options)

    def close(self) -> None:
        self.session.close()

    # ---- requests ------------------------------------------------------------------------
    def _once(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        self.limiter.try_acquire("tmdb")
        self.stats.add(requests=1)
        try:
            resp = self.session.get(
                f"{self.base_url}{path}", params={**params, **self._params}, timeout=self.timeout_s
            )
            text = resp.text
        except requests.Timeout as exc:
            raise TmdbRetryable(f"timeout: {type(exc).__name__}") from exc
        except requests.RequestException as exc:  # connection reset, truncated body, ...
            raise TmdbRetryable(f"connection error: {type(exc).__name__}: {exc}") from exc
        error = classify(resp.status_code, text, resp.headers.get("Retry-After"))
        if error is not None:
            if resp.status_code == 429:
                self.stats.add(throttled=1)
            raise error
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise TmdbRetryable(f"invalid JSON ({len(text)} bytes)", resp.status_code) from exc
        if not isinstance(body, dict):
            raise TmdbRetryable("JSON body is not an object", resp.status_code)
        return body

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TmdbRetryable) and exc.retry_after is not None:
            return exc.retry_after
        return self.backoff(state)

    def _before_sleep(self, state: RetryCallState) -> None:
        self.stats.add(retries=1)

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON object at ``path``; raises a :class:`TmdbError` subclass on failure."""
        transient = 0

        # 429s are TMDB telling us when to come back, not a failure of the request: they get
        # a bound of their own so a throttled run slows down instead of losing ids.
        def stop(state: RetryCallState) -> bool:
            nonlocal transient
            exc = state.outcome.exception() if state.outcome else None
            if not (isinstance(exc, TmdbRetryable) and exc.status == 429):
                transient += 1
            return transient > self.max_retries or state.attempt_number > self.max_attempts_429

        retrying = Retrying(
            retry=retry_if_exception_type(TmdbRetryable),
            stop=stop,
            wait=self._wait,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._once, path, dict(params or {}))
        except TmdbRetryable as exc:
            raise TmdbRequestFailed(f"gave up after retries: {exc}", exc.status, exc.code) from exc

    def movie_details(self, movie_id: int) -> dict[str, Any]:
        return self.get(f"/movie/{int(movie_id)}", {"append_to_response": DETAIL_APPENDS})
