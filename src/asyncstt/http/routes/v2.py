"""API v2: `POST /speech/stt/v2/longRunningRecognize`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from asyncstt.auth import check_folder
from asyncstt.http.deps import BodyDep, PrincipalDep, ServiceDep
from asyncstt.operation import ApiVersion
from asyncstt.wire.operation import render_operation
from asyncstt.wire.v2 import parse_long_running_request

router = APIRouter(tags=["v2"])


@router.post("/speech/stt/v2/longRunningRecognize", operation_id="longRunningRecognize")
def long_running_recognize(
    principal: PrincipalDep, body: BodyDep, service: ServiceDep
) -> JSONResponse:
    """Queue a recognition and return its Operation.

    The body is JSON whatever the Content-Type (curl `-d` sends form-urlencoded). The operation belongs to
    the caller's own folder: `config.folderId` may be left out or name that folder; naming another folder
    is 403 PERMISSION_DENIED (see `asyncstt.auth.check_folder`).
    """
    submission = parse_long_running_request(body)
    check_folder(principal, submission.folder_id)
    operation = service.submit(
        principal,
        submission.spec,
        uri=submission.uri,
        content=submission.content,
        api=ApiVersion.V2,
    )
    return JSONResponse(render_operation(operation))
