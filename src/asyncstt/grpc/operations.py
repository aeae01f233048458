"""`yandex.cloud.operation.OperationService`: Get and Cancel, as REST's `/operations/{id}` and `:cancel`.

Both API versions' operations are served here, each spending the poll quota of its own version; another
folder's operation is NOT_FOUND, like a missing one.
"""

from __future__ import annotations

import grpc
from yandex.cloud.operation import operation_service_pb2_grpc
from yandex.cloud.operation.operation_pb2 import Operation
from yandex.cloud.operation.operation_service_pb2 import (
    CancelOperationRequest,
    GetOperationRequest,
)

from asyncstt.grpc.context import Door, caller, folder_id, rpc
from asyncstt.wire.operation import to_operation_pb


class OperationService(operation_service_pb2_grpc.OperationServiceServicer):
    def __init__(self, door: Door) -> None:
        self.door = door

    @rpc("/yandex.cloud.operation.OperationService/Get")
    def Get(self, request: GetOperationRequest, context: grpc.ServicerContext) -> Operation:
        """The operation, from whichever folder of the caller's holds it (`x-folder-id` narrows it to one); a
        queued one with its place in the queue."""
        found = caller(self.door, context)
        _, operation = found.find(self.door.service, request.operation_id, folder_id(context))
        return to_operation_pb(operation, self.door.service.queue_position(operation))

    @rpc("/yandex.cloud.operation.OperationService/Cancel")
    def Cancel(self, request: CancelOperationRequest, context: grpc.ServicerContext) -> Operation:
        """Cancel the operation; returns it as it now is."""
        found = caller(self.door, context)
        principal, operation = found.find(
            self.door.service, request.operation_id, folder_id(context)
        )
        return to_operation_pb(self.door.service.cancel(principal, operation))
