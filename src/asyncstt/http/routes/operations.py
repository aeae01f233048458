"""The Operation API: get and cancel. Both API versions' operations are served here, each spending the poll
quota of its own version."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from asyncstt.http.deps import CallerDep, FolderHeader, ServiceDep, in_thread
from asyncstt.http.responses import operation_response, polled_operation_response
from asyncstt.service.caller import Caller
from asyncstt.service.operations import OperationService

router = APIRouter(tags=["operations"])


# Registered before the plain GET: `{operation_id}` alone would also match `id:cancel`.
@router.get("/operations/{operation_id}:cancel", operation_id="cancelOperationByGet")
@router.post("/operations/{operation_id}:cancel", operation_id="cancelOperation")
async def cancel_operation(
    operation_id: str, caller: CallerDep, service: ServiceDep, folder_id: FolderHeader = None
) -> Response:
    """Cancel (GET as in the proto, POST as in the design guide); returns the operation as it now is."""

    def cancel() -> Response:
        principal, operation = caller.find(service, operation_id, folder_id or "")
        return operation_response(service.cancel(principal, operation))

    return await in_thread(cancel)


@router.get("/operations/{operation_id}", operation_id="getOperation")
async def get_operation(
    operation_id: str, caller: CallerDep, service: ServiceDep, folder_id: FolderHeader = None
) -> Response:
    """The operation, from whichever folder of the caller's holds it (`x-folder-id` narrows it to one); a
    queued one with its place in the queue."""
    return await in_thread(lambda: read_operation(caller, service, operation_id, folder_id or ""))


def read_operation(
    caller: Caller, service: OperationService, operation_id: str, folder_id: str
) -> Response:
    """What `get_operation` answers, read on the worker thread (http/polls.py serves it the same way)."""
    _, operation = caller.find(service, operation_id, folder_id)
    return polled_operation_response(operation, service.queue_position(operation))
