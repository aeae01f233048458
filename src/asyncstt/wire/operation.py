"""The Operation as clients see it: `yandex.cloud.operation.Operation`, as a message and as REST JSON.

Unpopulated fields are left out (the v2 examples carry no `description` and no `metadata`), except `done`,
which clients test and which is therefore always present, `false` included.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import empty_pb2, json_format, timestamp_pb2
from yandex.cloud.operation import operation_pb2

from asyncstt.errors import ErrorInfo
from asyncstt.operation import ApiVersion, Operation, OperationState
from asyncstt.recognition import Transcript
from asyncstt.wire.progress import PROGRESS_FIELDS, to_progress_pb
from asyncstt.wire.v2 import render_v2_response

V3_DESCRIPTION = "STT v3 async recognition"
#: The order keys appear in, as in the public examples (JSON objects are unordered; this is for people).
_KEY_ORDER = (
    "done",
    "metadata",
    "response",
    "error",
    "id",
    "description",
    "createdAt",
    "createdBy",
    "modifiedAt",
)
_UNKNOWN_FAILURE = ErrorInfo(code=13, message="the operation failed for an unknown reason")


def to_operation_pb(op: Operation, queue_position: int | None = None) -> operation_pb2.Operation:
    """The protobuf form of `op`, for gRPC and as the source of the REST JSON.

    `queue_position` (see `OperationService.queue_position`) goes into the metadata of an operation not done.
    """
    message = operation_pb2.Operation(
        id=op.id,
        created_at=_timestamp(op.created_at),
        created_by=op.created_by,
        modified_at=_timestamp(op.modified_at),
        done=op.done,
    )
    if op.api is ApiVersion.V3:
        message.description = V3_DESCRIPTION
    if op.state is OperationState.SUCCEEDED:
        if op.api is ApiVersion.V3:
            message.response.Pack(empty_pb2.Empty())
        else:
            message.response.Pack(render_v2_response(op.result or Transcript()))
    elif op.state is OperationState.FAILED:
        error = op.error or _UNKNOWN_FAILURE
        message.error.code = error.code
        message.error.message = error.message
    else:
        message.metadata.Pack(to_progress_pb(op.progress, queue_position))
    return message


def render_operation(op: Operation, queue_position: int | None = None) -> dict[str, Any]:
    """The JSON object that REST returns for `op`; `queuePosition` is in its metadata when given."""
    rendered: dict[str, Any] = json_format.MessageToDict(
        to_operation_pb(op, queue_position), preserving_proto_field_name=False
    )
    rendered["done"] = op.done
    if "metadata" in rendered:
        # A fresh operation has processed 0 of 0 seconds; show the zeros rather than drop them.
        progress: dict[str, Any] = json_format.MessageToDict(
            to_progress_pb(op.progress, queue_position), always_print_fields_with_no_presence=True
        )
        rendered["metadata"] = {"@type": rendered["metadata"]["@type"]} | {
            field.json_name: progress[field.json_name]
            for field in PROGRESS_FIELDS
            if field.name != "queue_position" or queue_position is not None
        }
    if "error" in rendered:
        rendered["error"].setdefault("details", [])
    ordered = {key: rendered.pop(key) for key in _KEY_ORDER if key in rendered}
    ordered.update(rendered)
    return ordered


def _timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    """Whole seconds, as in every public example; a naive datetime is taken as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return timestamp_pb2.Timestamp(seconds=int(aware.timestamp() // 1))
