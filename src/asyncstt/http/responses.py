"""REST answers whose JSON is rendered once, straight to the bytes of the body; a done operation's, once per
process while it is polled."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.responses import Response

from asyncstt.operation import Operation
from asyncstt.recent import RecentValues
from asyncstt.wire.operation import operation_json


class DoneBodies:
    """The bodies rendered for done operations, kept while they are among the most recently read.

    A done operation changes only by going away (deleted, or purged past its retention), and every read still
    reads it from the store and checks the caller's access first, so a body kept here is only ever answered
    for an operation the store still holds, as it holds it: a deleted one is 404 at once, on every API
    process of a cluster. The key names the operation and its last modification, so a body could not outlive
    a change that made it wrong. At most `budget` bytes are kept, the least recently read dropped first; a
    body over a quarter of that is rendered each time.
    """

    def __init__(self, budget: int) -> None:
        self._bodies: RecentValues[tuple[str, str, object], bytes] = RecentValues(budget)

    def body(self, kind: str, operation: Operation, render: Callable[[], bytes]) -> bytes:
        """The `kind` of body of `operation`: `render()`, or what it gave before for the same done operation."""
        if not operation.done:
            return render()
        return self._bodies.get((kind, operation.id, operation.modified_at), render, len)


#: The bodies of this process's polls of done operations (the Operation API's and getRecognition's).
DONE_BODIES = DoneBodies(budget=16 * 1024**2)


def operation_response(operation: Operation, queue_position: int | None = None) -> Response:
    """The Operation as REST returns it (see `render_operation`)."""
    return Response(operation_json(operation, queue_position), media_type="application/json")


def polled_operation_response(operation: Operation, queue_position: int | None = None) -> Response:
    """`operation_response` for a poll: a done operation's body is rendered once (see `DoneBodies`)."""
    body = DONE_BODIES.body(
        "operation", operation, lambda: operation_json(operation, queue_position)
    )
    return Response(body, media_type="application/json")
