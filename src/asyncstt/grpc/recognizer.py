"""`speechkit.stt.v3.AsyncRecognizer` over gRPC: RecognizeFile, GetRecognition and DeleteRecognition.

Each call does what its REST twin under `/stt/v3/` does, with the same checks, quotas and messages; only the
envelope differs: the request comes as the official message (inline audio as bytes), the folder and the
idempotency key as metadata, and the results as a server stream of `StreamingResponse` messages.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
from google.protobuf import empty_pb2
from yandex.cloud.ai.stt.v3 import stt_pb2, stt_service_pb2, stt_service_pb2_grpc
from yandex.cloud.operation import operation_pb2

from asyncstt.errors import InvalidArgument
from asyncstt.grpc.context import Door, caller, folder_id, idempotency, rpc
from asyncstt.iam.quota import QuotaKind
from asyncstt.operation import ApiVersion
from asyncstt.wire.operation import to_operation_pb
from asyncstt.wire.v3 import render_recognition, v3_submission

_SERVICE = "/speechkit.stt.v3.AsyncRecognizer"


class AsyncRecognizerService(stt_service_pb2_grpc.AsyncRecognizerServicer):
    """The v3 asynchronous recognition calls of both SDKs (`ai-stt-v3` and `ai-stt` in endpoint discovery)."""

    def __init__(self, door: Door) -> None:
        self.door = door

    @rpc(f"{_SERVICE}/RecognizeFile")
    def RecognizeFile(
        self, request: stt_pb2.RecognizeFileRequest, context: grpc.ServicerContext
    ) -> operation_pb2.Operation:
        """Queue a recognition and return its Operation (`STT v3 async recognition`).

        It belongs to the folder named by `x-folder-id`, or to the caller's own folder when none is named; the
        caller needs a recognition role there. The same `idempotency-key` with the same request returns the
        same operation; with another request it is INVALID_ARGUMENT.
        """
        who = caller(self.door, context)
        key = idempotency(context, request)
        submission = v3_submission(request)
        principal = who.act(folder_id(context))
        operation = self.door.service.submit(
            principal,
            submission.spec,
            uri=submission.uri,
            content=submission.content,
            api=ApiVersion.V3,
            idempotency=key,
            admit=lambda: who.spend(QuotaKind.SUBMIT),
            excluded_languages=submission.excluded_languages,
        )
        return to_operation_pb(operation)

    @rpc(f"{_SERVICE}/GetRecognition")
    def GetRecognition(
        self, request: stt_service_pb2.GetRecognitionRequest, context: grpc.ServicerContext
    ) -> Iterator[stt_pb2.StreamingResponse]:
        """The results of a finished recognition, one `StreamingResponse` at a time.

        Every check happens before the first message, so that a running (FAILED_PRECONDITION), failed (its own
        error) or unknown (NOT_FOUND) operation ends the call without any result.
        """
        identifier = _operation_id(request.operation_id)
        _, operation = caller(self.door, context).find(
            self.door.service, identifier, folder_id(context), QuotaKind.V3_POLL
        )
        transcript = self.door.service.recognition_of(operation)
        started = time.monotonic()

        def wall_time_ms() -> int:
            return round((time.monotonic() - started) * 1000)

        yield from render_recognition(identifier, transcript, wall_time_ms, operation.spec)

    @rpc(f"{_SERVICE}/DeleteRecognition")
    def DeleteRecognition(
        self, request: stt_pb2.DeleteRecognitionRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        """Remove the operation with its results and audio at once; a later call about it is NOT_FOUND."""
        identifier = _operation_id(request.operation_id)
        principal, operation = caller(self.door, context).find(
            self.door.service, identifier, folder_id(context), QuotaKind.V3_POLL
        )
        self.door.service.delete(principal, operation)
        return empty_pb2.Empty()


def _operation_id(value: str) -> str:
    identifier = value.strip()
    if not identifier:
        raise InvalidArgument("operation_id is required")
    return identifier
