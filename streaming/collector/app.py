"""The event collector: ``POST /events`` from a browser or app into Kafka, by the contract.

A browser cannot speak Kafka; this small FastAPI app is its way in (the read-only
API in serving/api is separate). ``POST /events`` takes one event (a JSON object)
or a batch (a JSON array). Each event is judged by the reference validator
(:mod:`streaming.collector.batch`); rejected ones are kept in
``raw.user_events_rejected`` (``source_flag`` ``collector``), then the valid ones
are produced with the project's idempotent producer (``streaming.producer``),
on their type's topic, keyed by ``user_id``, and the answer waits for Kafka's
delivery reports: a 202 means Kafka has every event.

Answers: 202 when every event was accepted; 422 when some were rejected (the
valid ones are produced all the same); 400 for a body that is not JSON, 413 for
one too large (both kept as a dead letter); 503 when Kafka or PostgreSQL did not
confirm (retrying the same body is safe: the landing deduplicates on
``event_id``; a retried request's rejects are kept again, under its own run
id). Limits, address and timeouts are the ``streaming.collector`` tunables.
Every answer lists, per event, its
``index``, ``event_id``, ``status`` and, when rejected, ``reason`` and
``reason_detail`` exactly as the contract words them.

Usage::

    app = create_app(settings)          # nothing connects until the app starts
    uvicorn.run(app, port=8001)         # or: moviepipe collect --port 8001
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from moviepipe.config import Settings
from moviepipe.rules import Rules, load_rules
from streaming.collector.batch import (
    BodyError,
    Result,
    judge,
    split_body,
    status_for,
)
from streaming.collector.store import DeadLetters


class Deliveries:
    """The delivery reports of one request's messages, awaited on the event loop.

    confluent-kafka calls ``report`` from the poll thread; the last one wakes the
    request through ``call_soon_threadsafe``.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, n: int) -> None:
        self.loop, self.pending, self.errors = loop, n, {}
        self.done = loop.create_future()
        self._lock = threading.Lock()
        if n == 0:
            self.done.set_result(None)

    def _wake(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def report(self, index: int, err: object | None) -> None:
        with self._lock:
            if err is not None:
                self.errors[index] = str(err)
            self.pending -= 1
            last = self.pending == 0
        if last:
            self.loop.call_soon_threadsafe(self._wake)

    def callback(self, index: int):
        return lambda err, msg: self.report(index, err)


def _poll_forever(producer, stop: threading.Event) -> None:
    while not stop.is_set():
        producer.poll(0.05)  # serves the delivery callbacks


async def _produce(producer, accepted: list[Result], timeout_s: float) -> dict[int, str]:
    """Produce ``accepted`` and wait for every delivery report; ``{index: error}``."""
    deliveries = Deliveries(asyncio.get_running_loop(), len(accepted))
    for r in accepted:
        while True:
            try:
                producer.produce(
                    r.topic, value=r.raw, key=r.key, on_delivery=deliveries.callback(r.index)
                )
                break
            except BufferError:
                await asyncio.sleep(0.01)  # local queue full: the poll thread drains it
            except Exception as exc:  # e.g. an unknown topic: this event failed
                deliveries.report(r.index, exc)
                break
    try:
        await asyncio.wait_for(asyncio.shield(deliveries.done), timeout_s)
    except TimeoutError:
        return {r.index: "no delivery report from Kafka in time" for r in accepted}
    return deliveries.errors


async def _read_body(request: Request, max_bytes: int, keep: int) -> bytes:
    """The body, refused (413) past ``max_bytes`` without reading it all (the
    refusal keeps its first ``keep`` bytes for the dead letter)."""
    declared = request.headers.get("content-length", "")
    declared_too_large = declared.isdigit() and int(declared) > max_bytes
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes or (declared_too_large and size >= keep):
            break  # enough read to refuse it
    if declared_too_large or size > max_bytes:
        exc = BodyError(413, "oversize", f"the request body is over {max_bytes} bytes")
        exc.kept = b"".join(chunks)[:keep]
        raise exc
    return b"".join(chunks)


def _answer(status: int, request_id: str, results: list[Result]) -> JSONResponse:
    counts = {"accepted": 0, "rejected": 0, "failed": 0}
    for r in results:
        counts[r.status] += 1
    return JSONResponse(
        {"request_id": request_id, **counts, "results": [r.answer() for r in results]},
        status_code=status,
    )


def create_app(
    settings: Settings,
    rules: Rules | None = None,
    *,
    delivery_timeout_s: float | None = None,
) -> FastAPI:
    """The collector app; the producer and the dead-letter pool start with it.

    ``delivery_timeout_s``: how long a request waits for Kafka (then 503), and how
    long shutting down waits for the last deliveries (default: the tunable).
    """
    rules = rules or load_rules()
    config = settings.tunables.streaming.collector
    delivery_timeout_s = delivery_timeout_s or config.delivery_timeout_s
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from streaming.producer import make_producer

        producer = make_producer(settings)
        stop = threading.Event()
        poller = threading.Thread(target=_poll_forever, args=(producer, stop), daemon=True)
        poller.start()
        dead = DeadLetters(settings)
        await dead.open()
        state.update(producer=producer, dead=dead)
        try:
            yield
        finally:
            stop.set()
            poller.join()
            producer.flush(delivery_timeout_s)
            await dead.close()

    app = FastAPI(
        title="moviepipe event collector",
        description="POST /events: front-end events into Kafka, judged by the event contract.",
        lifespan=lifespan,
    )

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/events", status_code=202)
    async def post_events(request: Request) -> JSONResponse:
        request_id = uuid.uuid4().hex
        received = datetime.now(UTC)
        dead: DeadLetters = state["dead"]
        run_id = f"collect-{request_id}"
        body = b""
        try:
            body = await _read_body(request, config.max_body_bytes, rules.events.max_message_bytes)
            events = split_body(body, max_events=config.max_batch_events)
        except BodyError as exc:
            # the first bytes are enough to see what a client sent (a message's limit)
            kept = (exc.kept or body)[: rules.events.max_message_bytes]
            letter = Result(0, kept, None, "rejected",
                            exc.reason, exc.detail)  # fmt: skip
            with contextlib.suppress(Exception):  # the 4xx matters more than the letter
                await dead.keep([letter], received, run_id)
            return _answer(exc.status, request_id, [letter])
        if not events:
            return JSONResponse(
                {"request_id": request_id, "detail": "the batch is empty"}, status_code=400
            )
        results = judge(
            events, now=received, rules=rules, topic_prefix=settings.moviepipe_topic_prefix
        )
        rejected = [r for r in results if r.status == "rejected"]
        if rejected:
            try:
                await dead.keep(rejected, received, run_id)
            except Exception as exc:  # nothing produced: the client retries
                return JSONResponse(
                    {"request_id": request_id, "detail": f"dead letters not kept: {exc}"},
                    status_code=503,
                )
        accepted = [r for r in results if r.status == "accepted"]
        errors = await _produce(state["producer"], accepted, delivery_timeout_s)
        if errors:
            results = [
                Result(r.index, r.raw, r.event_id, "failed", "delivery_failed", errors[r.index])
                if r.index in errors
                else r
                for r in results
            ]
            return _answer(503, request_id, results)
        return _answer(status_for(body, results), request_id, results)

    return app
