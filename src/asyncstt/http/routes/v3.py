"""API v3: `recognizeFileAsync`, `getRecognition` and `deleteRecognition` under `/stt/v3/`."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from asyncstt.errors import InvalidArgument
from asyncstt.http.deps import (
    BodyDep,
    CallerDep,
    FolderHeader,
    IdempotencyDep,
    ServiceDep,
    in_thread,
)
from asyncstt.http.responses import DONE_BODIES, operation_response
from asyncstt.iam.quota import QuotaKind
from asyncstt.operation import ApiVersion
from asyncstt.service.caller import Caller
from asyncstt.service.operations import OperationService
from asyncstt.wire.v3 import (
    recognize_file_request_from_json,
    render_recognition,
    render_stream_line,
    v3_submission,
)

router = APIRouter(tags=["v3"])

# The reference spells the parameter `operationId`; the vendor's examples send `operation_id`.
OperationIdParam = Annotated[str | None, Query(alias="operationId")]
OperationIdSnakeParam = Annotated[str | None, Query(alias="operation_id")]
#: Our extension: what a running operation has recognised so far.
PartialParam = Annotated[bool, Query()]


@router.post("/stt/v3/recognizeFileAsync", operation_id="recognizeFileAsync")
async def recognize_file_async(
    caller: CallerDep,
    body: BodyDep,
    service: ServiceDep,
    idempotency: IdempotencyDep,
    folder_id: FolderHeader = None,
) -> Response:
    """Queue a recognition and return its Operation (`STT v3 async recognition`).

    The body is JSON whatever the Content-Type. The operation belongs to the folder named by `x-folder-id`,
    or to the caller's own folder when none is named; the caller needs a recognition role there. An
    `Idempotency-Key` works as in v2.
    """

    def submit() -> Response:
        submission = v3_submission(recognize_file_request_from_json(body))
        principal = caller.act(folder_id or "")
        operation = service.submit(
            principal,
            submission.spec,
            uri=submission.uri,
            content=submission.content,
            api=ApiVersion.V3,
            idempotency=idempotency,
            admit=lambda: caller.spend(QuotaKind.SUBMIT),
            excluded_languages=submission.excluded_languages,
        )
        return operation_response(operation)

    return await in_thread(submit)


@router.get("/stt/v3/getRecognition", operation_id="getRecognition")
async def get_recognition(
    caller: CallerDep,
    service: ServiceDep,
    operation_id: OperationIdParam = None,
    operation_id_snake: OperationIdSnakeParam = None,
    folder_id: FolderHeader = None,
    partial: PartialParam = False,
) -> Response:
    """The results as a stream of `{"result": StreamingResponse}` lines, rendered in one pass.

    Every check happens before the first byte, so that a running, failed or unknown operation is an HTTP error
    rather than a broken stream. With `partial=true` (our extension) a running operation streams what it has
    recognised so far, a prefix of its final stream, and a finished one its whole result.
    """
    identifier = operation_id_of(operation_id, operation_id_snake)
    lines = await in_thread(
        lambda: read_recognition(caller, service, identifier, folder_id or "", partial)
    )
    return Response(lines, media_type="application/json")


def read_recognition(
    caller: Caller, service: OperationService, identifier: str, folder_id: str, partial: bool
) -> bytes:
    """The body `get_recognition` answers, read and rendered on the worker thread (http/polls.py serves it
    the same way)."""
    _, operation = caller.find(service, identifier, folder_id, QuotaKind.V3_POLL)

    def render() -> bytes:
        if partial:
            transcript = service.partial_recognition_of(operation)
        else:
            transcript = service.recognition_of(operation)
        started = time.monotonic()

        def wall_time_ms() -> int:
            return round((time.monotonic() - started) * 1000)

        return b"".join(
            render_stream_line(response)
            for response in render_recognition(
                identifier, transcript, wall_time_ms, operation.spec, partial=not operation.done
            )
        )

    # A done operation's stream is the same with or without `partial`; a failed one raises, and is not kept.
    # Its messages keep the wall times of their first rendering.
    return DONE_BODIES.body(f"recognition {identifier}", operation, render)


@router.delete("/stt/v3/deleteRecognition", operation_id="deleteRecognition")
async def delete_recognition(
    caller: CallerDep,
    service: ServiceDep,
    operation_id: OperationIdParam = None,
    operation_id_snake: OperationIdSnakeParam = None,
    folder_id: FolderHeader = None,
) -> JSONResponse:
    """Remove the operation with its results and audio at once; a later get answers 404."""
    identifier = operation_id_of(operation_id, operation_id_snake)

    def delete() -> None:
        principal, operation = caller.find(service, identifier, folder_id or "", QuotaKind.V3_POLL)
        service.delete(principal, operation)

    await in_thread(delete)
    return JSONResponse({})


def operation_id_of(camel: str | None, snake: str | None) -> str:
    """The operation id a v3 result request names, in either spelling of the parameter."""
    value = (camel or snake or "").strip()
    if not value:
        raise InvalidArgument("the query parameter operationId is required")
    return value
