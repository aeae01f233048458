"""The reads clients repeat most, served without FastAPI's per-request routing and parameter resolution.

A client polls `GET /operations/{id}` (and a v3 client `GET /stt/v3/getRecognition`) again and again until its
operation is done; reading and rendering one costs about 0.15 ms of CPU, and FastAPI's router with its
resolution of each declared header, query and dependency cost about 0.25 ms more. `PollShortcut` is an
ASGI layer in front of the router: it recognises those two GETs by their path, reads the headers and query
parameters the routes declare, exactly as FastAPI reads them, and answers through the routes' own functions
(`read_operation`, `read_recognition`), with errors answered as http/errors.py answers them for any route.
What it cannot read the same way (a `partial` other than `true` or `false`, a cancel, a root path) goes on to
FastAPI, as does every other request, so the OpenAPI document, 405s and redirects are FastAPI's as before.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from asyncstt.errors import AsyncSttError
from asyncstt.http.deps import get_caller, in_thread
from asyncstt.http.errors import service_error_response
from asyncstt.http.routes.operations import read_operation
from asyncstt.http.routes.v3 import operation_id_of, read_recognition
from asyncstt.service.operations import OperationService

OPERATION_PREFIX = "/operations/"
RECOGNITION_PATH = "/stt/v3/getRecognition"
#: The Operation API's cancel, which FastAPI routes before the plain read of `/operations/{id}`.
CANCEL_SUFFIX = ":cancel"
#: The values of `partial` read here; pydantic's other spellings of a boolean are left to FastAPI.
_FLAGS = {None: False, "false": False, "true": True}


class PollShortcut:
    """ASGI middleware serving `GET /operations/{id}` and `GET /stt/v3/getRecognition` of the app it wraps."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            response = await _poll(Request(scope, receive), scope["path"])
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _poll(request: Request, path: str) -> Response | None:
    """The answer to a poll at `path`; None for a request that is not one of the two reads."""
    if path == RECOGNITION_PATH:
        partial = request.query_params.get("partial")
        if partial not in _FLAGS:
            return None
        read = _recognition(request, _FLAGS[partial])
    else:
        operation_id = path[len(OPERATION_PREFIX) :]
        if not path.startswith(OPERATION_PREFIX) or not operation_id or "/" in operation_id:
            return None
        if operation_id.endswith(CANCEL_SUFFIX):
            return None
        read = _operation(request, operation_id)
    try:
        return await read
    except AsyncSttError as error:
        return service_error_response(request, error)


async def _operation(request: Request, operation_id: str) -> Response:
    caller = await get_caller(request, request.headers.get("authorization"))
    service: OperationService = request.app.state.service
    folder_id = request.headers.get("x-folder-id") or ""
    return await in_thread(lambda: read_operation(caller, service, operation_id, folder_id))


async def _recognition(request: Request, partial: bool) -> Response:
    # As in the route: the caller is authenticated before the operation id is looked at.
    caller = await get_caller(request, request.headers.get("authorization"))
    service: OperationService = request.app.state.service
    query = request.query_params
    identifier = operation_id_of(query.get("operationId"), query.get("operation_id"))
    folder_id = request.headers.get("x-folder-id") or ""
    lines = await in_thread(
        lambda: read_recognition(caller, service, identifier, folder_id, partial)
    )
    return Response(lines, media_type="application/json")
