"""The REST application's own guard against clients that would bloat it, whatever server runs it: a cap on the
large request bodies read at once, and clients that go away mid-request taken as what they are.

A request body is buffered whole before it is parsed (up to twice the inline-audio limit), so ten uploads that
stall or trickle would hold over a gigabyte; past `http.max_large_bodies` at once a request with a large body is
answered 503 before any of it is read. A client that disconnects during its upload is logged at INFO (a few lines
a minute whatever the flood) and counted as cancelled by the caller, never as an internal error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from asyncstt.http.errors import REQUEST_ID_HEADER, request_id, status_body
from asyncstt.observability.logs import ThrottledLog
from asyncstt.observability.metrics import Metrics
from asyncstt.settings import HttpServerSettings

log = logging.getLogger(__name__)

#: Methods whose requests carry no body here; they pass the guard untouched.
_BODYLESS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
#: google.rpc code of a request its client gave up (HTTP 499, "client closed request").
CANCELLED = 1
UNAVAILABLE = 14
#: Longest part of a path that a log line quotes.
LOGGED_PATH_CHARS = 200


class LargeBodyLimit:
    """ASGI middleware: at most `limits.max_large_bodies` requests whose body is over `limits.large_body_bytes`
    (or of unknown length) are served at once in this process; one more is answered 503 with Retry-After."""

    def __init__(self, app: ASGIApp, limits: HttpServerSettings, metrics: Metrics) -> None:
        self.app = app
        self._threshold = limits.large_body_bytes
        self._most = limits.max_large_bodies
        self._metrics = metrics
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODYLESS or not self._large(scope):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self._most:
            await self._refuse(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    def _large(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"content-length":
                return not value.isdigit() or int(value) > self._threshold
            if name == b"transfer-encoding":
                return True
        return False

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._metrics.error(UNAVAILABLE, "request")
        rid: str = scope.get("state", {}).get("request_id", "")
        message = (
            f"{self._most} large request bodies are being read already; retry in a moment, or put the file in a "
            "bucket and send its link as audio.uri"
        )
        # The body is not wanted: closing saves the client sending the rest of it.
        response = JSONResponse(
            status_body(UNAVAILABLE, message, rid),
            status_code=503,
            headers={"Retry-After": "1", "Connection": "close", REQUEST_ID_HEADER: rid},
        )
        await response(scope, receive, send)


def _client_gone_handler(
    gone: ThrottledLog,
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def on_client_gone(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, ClientDisconnect):
            raise exc
        metrics: Metrics = request.app.state.metrics
        metrics.error(CANCELLED, "request")
        gone(request.method, request.url.path[:LOGGED_PATH_CHARS])
        rid = request_id(request)
        body: dict[str, Any] = status_body(
            CANCELLED, "the client went away before its request was read", rid
        )
        # Nobody reads this answer; it keeps the exchange well formed for the server.
        return JSONResponse(body, status_code=499, headers={REQUEST_ID_HEADER: rid})

    return on_client_gone


def install_limits(app: FastAPI, limits: HttpServerSettings) -> None:
    """Guard `app` with `limits`; called before the error handling is installed, so that refusals carry the
    request id."""
    gone = ThrottledLog(
        log, logging.INFO, "the client of %s %s went away before its request was read"
    )
    app.add_exception_handler(ClientDisconnect, _client_gone_handler(gone))
    app.add_middleware(LargeBodyLimit, limits=limits, metrics=app.state.metrics)
