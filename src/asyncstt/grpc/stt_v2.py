"""`yandex.cloud.ai.stt.v2.SttService` over gRPC: LongRunningRecognize.

It does what REST's `longRunningRecognize` does, with the same checks, quota and messages; the request comes as
the official message (inline audio as bytes) and the idempotency key as metadata. Streaming recognition is not
served: StreamingRecognize answers UNIMPLEMENTED.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from yandex.cloud.ai.stt.v2 import stt_service_pb2, stt_service_pb2_grpc
from yandex.cloud.operation import operation_pb2

from asyncstt.grpc.context import Door, caller, idempotency, rpc
from asyncstt.grpc.errors import Unimplemented
from asyncstt.iam.quota import QuotaKind
from asyncstt.operation import ApiVersion
from asyncstt.wire.operation import to_operation_pb
from asyncstt.wire.v2 import v2_submission


class SttV2Service(stt_service_pb2_grpc.SttServiceServicer):
    """The v2 asynchronous recognition call of the yandexcloud SDK (`ai-stt` in endpoint discovery)."""

    def __init__(self, door: Door) -> None:
        self.door = door

    @rpc("/yandex.cloud.ai.stt.v2.SttService/LongRunningRecognize")
    def LongRunningRecognize(
        self,
        request: stt_service_pb2.LongRunningRecognitionRequest,
        context: grpc.ServicerContext,
    ) -> operation_pb2.Operation:
        """Queue a recognition and return its Operation; done, its response is a `LongRunningRecognitionResponse`.

        As over REST, it belongs to the folder named by `config.folder_id` (not `x-folder-id`), or to the
        caller's own folder when none is named, and the caller needs a recognition role there. The same
        `idempotency-key` with the same request returns the same operation; with another request it is
        INVALID_ARGUMENT.
        """
        who = caller(self.door, context)
        key = idempotency(context, request)
        submission = v2_submission(request)
        principal = who.act(submission.folder_id)
        operation = self.door.service.submit(
            principal,
            submission.spec,
            uri=submission.uri,
            content=submission.content,
            api=ApiVersion.V2,
            idempotency=key,
            admit=lambda: who.spend(QuotaKind.SUBMIT),
        )
        return to_operation_pb(operation)

    @rpc("/yandex.cloud.ai.stt.v2.SttService/StreamingRecognize")
    def StreamingRecognize(
        self,
        request_iterator: Iterator[stt_service_pb2.StreamingRecognitionRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[stt_service_pb2.StreamingRecognitionResponse]:
        """Not served: this server recognizes recorded files only."""
        raise Unimplemented(
            "streaming recognition is not served by this server; use LongRunningRecognize"
        )
