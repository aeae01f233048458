"""The Operation API: get and cancel. Both API versions' operations are served here, each spending the poll
quota of its own version."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from asyncstt.http.deps import CallerDep, FolderHeader, ServiceDep
from asyncstt.wire.operation import render_operation

router = APIRouter(tags=["operations"])


# Registered before the plain GET: `{operation_id}` alone would also match `id:cancel`.
@router.get("/operations/{operation_id}:cancel", operation_id="cancelOperationByGet")
@router.post("/operations/{operation_id}:cancel", operation_id="cancelOperation")
def cancel_operation(
    operation_id: str, caller: CallerDep, service: ServiceDep, folder_id: FolderHeader = None
) -> JSONResponse:
    """Cancel (GET as in the proto, POST as in the design guide); returns the operation as it now is."""
    principal, operation = caller.find(service, operation_id, folder_id or "")
    return JSONResponse(render_operation(service.cancel(principal, operation)))


@router.get("/operations/{operation_id}", operation_id="getOperation")
def get_operation(
    operation_id: str, caller: CallerDep, service: ServiceDep, folder_id: FolderHeader = None
) -> JSONResponse:
    """The operation, from whichever folder of the caller's holds it (`x-folder-id` narrows it to one); a
    queued one with its place in the queue."""
    _, operation = caller.find(service, operation_id, folder_id or "")
    return JSONResponse(render_operation(operation, service.queue_position(operation)))
