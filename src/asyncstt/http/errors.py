"""The one place where errors become HTTP responses: `google.rpc.Status` JSON with a RequestInfo detail.

Every response carries `x-request-id`; error bodies repeat it as `details[0].requestId`. An exception that is
not an AsyncSttError is a bug: it is logged with its traceback under the request id and answered with
500 / code 13 naming that id, so a report can be matched to the log. Every error answer is counted in the
metrics; refusals (401, 403, 429) are also written to the audit log.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from asyncstt.errors import HTTP_STATUS_BY_CODE, AsyncSttError, ResourceExhausted
from asyncstt.iam.auth import Authenticator, Principal
from asyncstt.ids import client_request_id
from asyncstt.observability.metrics import Metrics

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
CLIENT_REQUEST_ID_HEADER = "x-client-request-id"
#: gRPC code for HTTP errors raised by the framework itself (routing).
_CODE_BY_HTTP_STATUS = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 409: 6, 413: 3, 429: 8, 503: 14}


def status_body(code: int, message: str, request_id: str) -> dict[str, Any]:
    """A `google.rpc.Status` as JSON, with the request id as a `google.rpc.RequestInfo` detail."""
    status = status_pb2.Status(code=code, message=message)
    status.details.add().Pack(error_details_pb2.RequestInfo(request_id=request_id))
    body: dict[str, Any] = json_format.MessageToDict(status)
    body.setdefault("code", code)
    return body


def request_id(request: Request) -> str:
    rid: str = getattr(request.state, "request_id", "") or str(uuid.uuid4())
    return rid


def error_response(error: AsyncSttError, rid: str) -> JSONResponse:
    headers = {REQUEST_ID_HEADER: rid}
    if isinstance(error, ResourceExhausted):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return JSONResponse(
        status_body(error.code, error.message, rid), status_code=error.http_status, headers=headers
    )


def _count(request: Request, code: int) -> None:
    metrics: Metrics = request.app.state.metrics
    metrics.error(code, "request")


async def _on_service_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, AsyncSttError):
        raise exc
    return service_error_response(request, exc)


def service_error_response(request: Request, error: AsyncSttError) -> JSONResponse:
    """The answer to a request refused with `error`, counted, and audited when it is a refusal of access."""
    _count(request, error.code)
    authenticator: Authenticator = request.app.state.authenticator
    principal: Principal | None = getattr(request.state, "principal", None)
    authenticator.record_denial(principal, f"{request.method} {request.url.path}", error)
    return error_response(error, request_id(request))


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, HTTPException):
        raise exc
    if exc.status_code == 404:
        message = f"no such path: {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    code = _CODE_BY_HTTP_STATUS.get(exc.status_code, 2 if exc.status_code < 500 else 13)
    _count(request, code)
    rid = request_id(request)
    headers = {**(exc.headers or {}), REQUEST_ID_HEADER: rid}
    return JSONResponse(
        status_body(code, message, rid), status_code=exc.status_code, headers=headers
    )


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors()
    )
    _count(request, 3)
    rid = request_id(request)
    return JSONResponse(
        status_body(3, f"invalid request: {problems}", rid),
        status_code=HTTP_STATUS_BY_CODE[3],
        headers={REQUEST_ID_HEADER: rid},
    )


class RequestContextMiddleware:
    """Gives each request an id, stamps it on the response, and turns unexpected exceptions into 500s."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = rid
        client_rid = _client_request_id(scope)
        started = False

        async def send_with_ids(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = rid
                if client_rid:
                    headers[CLIENT_REQUEST_ID_HEADER] = client_rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        except Exception:
            log.exception(
                "unexpected error in %s %s (request id %s, client request id %s)",
                scope.get("method"),
                scope.get("path"),
                rid,
                client_rid or "-",
            )
            if started:
                raise
            self.metrics.error(13, "request")
            message = f"internal error; it was logged under error id {rid}"
            response = JSONResponse(status_body(13, message, rid), status_code=500)
            await response(scope, receive, send_with_ids)


def _client_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == CLIENT_REQUEST_ID_HEADER.encode():
            return client_request_id(value.decode("latin-1"))
    return None


def install_error_handling(app: FastAPI) -> None:
    """Route every error of `app` through this module."""
    app.add_exception_handler(AsyncSttError, _on_service_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
