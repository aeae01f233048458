"""REST answers whose JSON is rendered once, straight to the bytes of the body."""

from __future__ import annotations

from fastapi.responses import Response

from asyncstt.operation import Operation
from asyncstt.wire.operation import operation_json


def operation_response(operation: Operation, queue_position: int | None = None) -> Response:
    """The Operation as REST returns it (see `render_operation`)."""
    return Response(operation_json(operation, queue_position), media_type="application/json")
