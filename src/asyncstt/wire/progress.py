"""Our own progress message, `asyncstt.v1.RecognitionProgress`, carried in `Operation.metadata`.

It is built at run time into the default descriptor pool, so that `json_format` can pack it into an `Any`
and render it back with its `@type` (`type.googleapis.com/asyncstt.v1.RecognitionProgress`) like any
message of the official packages. Clients of the public service ignore unknown metadata.

A queued operation polled through the Operation API also carries `queuePosition`: 1 for the next operation a
dispatcher claims.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from asyncstt.operation import Progress

FULL_NAME = "asyncstt.v1.RecognitionProgress"
TYPE_URL = f"type.googleapis.com/{FULL_NAME}"


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="asyncstt/v1/progress.proto", package="asyncstt.v1", syntax="proto3"
    )
    message = proto.message_type.add(name="RecognitionProgress")
    for number, (name, json_name, kind) in enumerate(
        [
            ("processed_seconds", "processedSeconds", field.TYPE_DOUBLE),
            ("total_seconds", "totalSeconds", field.TYPE_DOUBLE),
            ("stage", "stage", field.TYPE_STRING),
            # 1 + how many operations will be claimed before this one; 0 (left out) when not queued.
            ("queue_position", "queuePosition", field.TYPE_INT32),
        ],
        start=1,
    ):
        message.field.add(
            name=name, json_name=json_name, number=number, type=kind, label=field.LABEL_OPTIONAL
        )
    return proto


def _message_class() -> Any:
    pool = descriptor_pool.Default()
    # Adding an identical file twice is allowed, so a module reload does not fail.
    pool.Add(_file_descriptor())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(FULL_NAME))


#: The generated message class of `asyncstt.v1.RecognitionProgress`.
RecognitionProgress: Any = _message_class()
#: Its fields in declaration order.
PROGRESS_FIELDS: tuple[Any, ...] = tuple(RecognitionProgress.DESCRIPTOR.fields)


def to_progress_pb(progress: Progress, queue_position: int | None = None) -> Any:
    """The protobuf form of `progress`, with the operation's place in the queue while it waits there."""
    return RecognitionProgress(
        processed_seconds=progress.processed_seconds,
        total_seconds=progress.total_seconds,
        stage=progress.stage,
        queue_position=queue_position or 0,
    )
