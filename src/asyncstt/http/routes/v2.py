"""API v2: `POST /speech/stt/v2/longRunningRecognize`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from asyncstt.http.deps import BodyDep, CallerDep, IdempotencyDep, ServiceDep, in_thread
from asyncstt.http.responses import operation_response
from asyncstt.iam.quota import QuotaKind
from asyncstt.operation import ApiVersion
from asyncstt.wire.v2 import long_running_request_from_json, v2_submission

router = APIRouter(tags=["v2"])


@router.post("/speech/stt/v2/longRunningRecognize", operation_id="longRunningRecognize")
async def long_running_recognize(
    caller: CallerDep, body: BodyDep, service: ServiceDep, idempotency: IdempotencyDep
) -> Response:
    """Queue a recognition and return its Operation.

    The body is JSON whatever the Content-Type (curl `-d` sends form-urlencoded). The operation belongs to
    the folder named by `config.folderId`, or to the caller's own folder when none is named; the caller needs
    a recognition role there (403 PERMISSION_DENIED otherwise). The same `Idempotency-Key` with the same body
    returns the same operation for 24 h; with another body it is 400.
    """

    def submit() -> Response:
        submission = v2_submission(long_running_request_from_json(body))
        principal = caller.act(submission.folder_id)
        operation = service.submit(
            principal,
            submission.spec,
            uri=submission.uri,
            content=submission.content,
            api=ApiVersion.V2,
            idempotency=idempotency,
            admit=lambda: caller.spend(QuotaKind.SUBMIT),
        )
        return operation_response(operation)

    return await in_thread(submit)
