"""The REST application's guard: a cap on large request bodies read at once, and uploads whose client went away
logged at INFO and counted as cancelled by the caller, not as internal errors."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from asyncstt.http.limits import LargeBodyLimit
from asyncstt.observability.metrics import Metrics
from asyncstt.settings import HttpServerSettings
from tests.unit.http.conftest import Harness


class HeldApp:
    """Reads nothing; stays in the request until `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.served = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.served += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def request(method: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": "/stt/v3/recognizeFileAsync",
        "headers": headers,
        "state": {"request_id": "rid-1"},
    }


async def call(app: ASGIApp, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_past_the_most_large_bodies_at_once_a_request_is_answered_503_unread() -> None:
    inner = HeldApp()
    metrics = Metrics()
    guard = LargeBodyLimit(
        inner, HttpServerSettings(large_body_bytes=1000, max_large_bodies=2), metrics
    )
    large = request("POST", [(b"content-length", b"5000")])
    held = [asyncio.create_task(call(guard, large)) for _ in range(2)]
    await asyncio.sleep(0)
    assert guard.in_flight == 2

    refused = await call(guard, request("POST", [(b"transfer-encoding", b"chunked")]))
    small = asyncio.create_task(call(guard, request("POST", [(b"content-length", b"1000")])))
    bodiless = asyncio.create_task(call(guard, request("GET", [])))
    await asyncio.sleep(0)
    assert inner.served == 4

    start, body = refused
    assert start["status"] == 503
    headers = dict(start["headers"])
    assert headers[b"retry-after"] == b"1"
    assert headers[b"connection"] == b"close"
    assert headers[b"x-request-id"] == b"rid-1"
    status = json.loads(body["body"])
    assert status["code"] == 14
    assert status["message"].startswith("2 large request bodies are being read already")
    assert (
        metrics.registry.get_sample_value(
            "asyncstt_errors_total", {"code": "14", "where": "request"}
        )
        == 1
    )

    inner.release.set()
    await asyncio.gather(*held, small, bodiless)
    assert guard.in_flight == 0
    assert (await call(guard, large))[0]["status"] == 200


@pytest.mark.parametrize(
    "path", ["/stt/v3/recognizeFileAsync", "/speech/stt/v2/longRunningRecognize", "/iam/v1/tokens"]
)
async def test_an_upload_whose_client_goes_away_is_logged_at_info_and_counted_as_cancelled(
    make_harness: Callable[..., Harness], caplog: pytest.LogCaptureFixture, path: str
) -> None:
    harness = make_harness()
    parts: list[Message] = [
        {"type": "http.request", "body": b'{"config": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return parts.pop(0) if parts else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-length", b"500"),
            (b"content-type", b"application/json"),
            *[(k.lower().encode(), v.encode()) for k, v in harness.headers.items()],
        ],
    }
    with caplog.at_level(logging.INFO):
        await harness.client.app(scope, receive, send)

    assert sent[0]["status"] == 499
    errors = harness.metrics.registry.get_sample_value
    assert errors("asyncstt_errors_total", {"code": "1", "where": "request"}) == 1
    assert errors("asyncstt_errors_total", {"code": "13", "where": "request"}) is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    gone = [r for r in caplog.records if r.name == "asyncstt.http.limits"]
    assert [(r.levelno, r.getMessage()) for r in gone] == [
        (logging.INFO, f"the client of POST {path} went away before its request was read")
    ]
