"""The Operation as clients see it: `yandex.cloud.operation.Operation`, as a message and as REST JSON.

Unpopulated fields are left out (the v2 examples carry no `description` and no `metadata`), except `done`,
which clients test and which is therefore always present, `false` included.

gRPC answers the message (`to_operation_pb`). REST renders the JSON in one pass from the operation itself, as
`json_format` would render that message: only a v2 result goes through its protobuf message, once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import empty_pb2, json_format, timestamp_pb2
from yandex.cloud.ai.stt.v2 import stt_service_pb2
from yandex.cloud.operation import operation_pb2

from asyncstt.errors import ErrorInfo
from asyncstt.operation import ApiVersion, Operation, OperationState
from asyncstt.recognition import Transcript
from asyncstt.wire.progress import TYPE_URL as PROGRESS_TYPE_URL
from asyncstt.wire.progress import to_progress_pb
from asyncstt.wire.v2 import render_v2_response

V3_DESCRIPTION = "STT v3 async recognition"
_TYPE_URL_PREFIX = "type.googleapis.com/"
_EMPTY_TYPE_URL = _TYPE_URL_PREFIX + empty_pb2.Empty.DESCRIPTOR.full_name
_V2_RESPONSE_TYPE_URL = (
    _TYPE_URL_PREFIX + stt_service_pb2.LongRunningRecognitionResponse.DESCRIPTOR.full_name
)
_EPOCH = datetime(1970, 1, 1)
_UNKNOWN_FAILURE = ErrorInfo(code=13, message="the operation failed for an unknown reason")


def to_operation_pb(op: Operation, queue_position: int | None = None) -> operation_pb2.Operation:
    """The protobuf form of `op`, as gRPC answers it.

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
    """The JSON object that REST returns for `op`; `queuePosition` is in its metadata when given.

    Keys in the order of the public examples (JSON objects are unordered; this is for people): done, metadata,
    response, error, id, description, createdAt, createdBy, modifiedAt.
    """
    rendered: dict[str, Any] = {"done": op.done}
    if op.state is OperationState.SUCCEEDED:
        if op.api is ApiVersion.V3:
            rendered["response"] = {"@type": _EMPTY_TYPE_URL}
        else:
            result = json_format.MessageToDict(render_v2_response(op.result or Transcript()))
            rendered["response"] = {"@type": _V2_RESPONSE_TYPE_URL, **result}
    elif op.state is OperationState.FAILED:
        error = op.error or _UNKNOWN_FAILURE
        rendered["error"] = {
            **({"code": error.code} if error.code else {}),
            **({"message": error.message} if error.message else {}),
            "details": [],
        }
    else:
        # A fresh operation has processed 0 of 0 seconds; show the zeros rather than drop them.
        metadata = {
            "@type": PROGRESS_TYPE_URL,
            "processedSeconds": float(op.progress.processed_seconds),
            "totalSeconds": float(op.progress.total_seconds),
            "stage": op.progress.stage,
        }
        if queue_position is not None:
            metadata["queuePosition"] = queue_position
        rendered = {"done": op.done, "metadata": metadata}
    if op.id:
        rendered["id"] = op.id
    if op.api is ApiVersion.V3:
        rendered["description"] = V3_DESCRIPTION
    rendered["createdAt"] = _json_timestamp(op.created_at)
    if op.created_by:
        rendered["createdBy"] = op.created_by
    rendered["modifiedAt"] = _json_timestamp(op.modified_at)
    return rendered


def operation_json(op: Operation, queue_position: int | None = None) -> bytes:
    """`render_operation` as the bytes of a REST body."""
    return json.dumps(
        render_operation(op, queue_position),
        ensure_ascii=False,
        allow_nan=False,
        separators=(",", ":"),
    ).encode()


def _timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    """Whole seconds, as in every public example; a naive datetime is taken as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return timestamp_pb2.Timestamp(seconds=int(aware.timestamp() // 1))


def _json_timestamp(moment: datetime) -> str:
    """`_timestamp(moment)` as `json_format` writes a Timestamp: RFC 3339 in UTC, whole seconds."""
    return (_EPOCH + timedelta(seconds=_timestamp(moment).seconds)).isoformat() + "Z"
