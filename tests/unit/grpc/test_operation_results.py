"""What Operation Get answers about a finished, failed, deleted or malformed operation: the twins of REST's
`/operations/{id}` result tests (tests/unit/http/test_operations.py).

An answer's proto3 JSON form (`json_format.MessageToDict`) is compared with the body REST sends for the same
operation: both doors render the same messages, so they must agree field for field.
"""

from __future__ import annotations

import functools
from typing import Any

import grpc
from google.protobuf import json_format
from yandex.cloud.operation.operation_pb2 import Operation as OperationPb
from yandex.cloud.operation.operation_service_pb2 import (
    CancelOperationRequest,
    GetOperationRequest,
)
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from asyncstt.errors import ErrorInfo
from asyncstt.operation import ApiVersion
from asyncstt.recognition import Transcript, Utterance, Word
from tests.factories import v2_chunk, v2_word
from tests.support.contract_cases import CALLER
from tests.support.stored_operations import claimed, queued
from tests.unit.grpc.conftest import SERVICE_ACCOUNT, GrpcHarness, refused

V2_RESPONSE = "type.googleapis.com/yandex.cloud.ai.stt.v2.LongRunningRecognitionResponse"


def get(harness: GrpcHarness, operation_id: str) -> OperationPb:
    answer: OperationPb = harness.stub(OperationServiceStub).Get(
        GetOperationRequest(operation_id=operation_id), metadata=harness.metadata
    )
    return answer


def cancel(harness: GrpcHarness, operation_id: str) -> OperationPb:
    answer: OperationPb = harness.stub(OperationServiceStub).Cancel(
        CancelOperationRequest(operation_id=operation_id), metadata=harness.metadata
    )
    return answer


def as_json(answer: OperationPb) -> dict[str, Any]:
    """The answer as REST spells the same operation."""
    rendered: dict[str, Any] = json_format.MessageToDict(answer)
    return rendered


def assert_not_found(harness: GrpcHarness, operation_id: str) -> None:
    for call in (get, cancel):
        error = refused(functools.partial(call, harness, operation_id))
        assert (error.code(), error.details()) == (
            grpc.StatusCode.NOT_FOUND,
            f"operation {operation_id} not found",
        )


def test_a_finished_two_channel_operation_is_the_rest_body(grpc_harness: GrpcHarness) -> None:
    operation = claimed(grpc_harness, ApiVersion.V2)
    utterances = (
        Utterance(0, 0.42, 0.86, (Word("good", 0.42, 0.86),), "good", "Good."),
        Utterance(1, 2.9, 3.15, (Word("twelve", 2.9, 3.15, 0.5),), "twelve", "12", confidence=0.75),
    )
    grpc_harness.clock.advance(33)
    transcript = Transcript(utterances=utterances, channels=2, duration_seconds=4.0)
    assert grpc_harness.store.finish(
        operation.id, "worker", grpc_harness.clock(), result=transcript
    )
    assert as_json(get(grpc_harness, operation.id)) == {
        "done": True,
        "response": {
            "@type": V2_RESPONSE,
            "chunks": [
                v2_chunk("1", "Good.", [v2_word("good", "0.420s", "0.860s")]),
                v2_chunk("2", "12", [v2_word("twelve", "2.900s", "3.150s", 0.5)], 0.75),
            ],
        },
        "id": operation.id,
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": SERVICE_ACCOUNT,
        "modifiedAt": "2025-03-02T10:15:41Z",
    }


def test_a_finished_operation_without_speech_packs_an_empty_response(
    grpc_harness: GrpcHarness,
) -> None:
    operation = claimed(grpc_harness, ApiVersion.V2)
    grpc_harness.clock.advance(4)
    assert grpc_harness.store.finish(
        operation.id, "worker", grpc_harness.clock(), result=Transcript()
    )
    answer = get(grpc_harness, operation.id)
    assert answer.response.type_url == V2_RESPONSE
    assert answer.response.value == b""
    assert as_json(answer) == {
        "done": True,
        "response": {"@type": V2_RESPONSE},
        "id": operation.id,
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": SERVICE_ACCOUNT,
        "modifiedAt": "2025-03-02T10:15:12Z",
    }


def test_a_failed_operation_is_an_answer_carrying_its_error(grpc_harness: GrpcHarness) -> None:
    operation = claimed(grpc_harness, ApiVersion.V2)
    grpc_harness.clock.advance(1)
    error = ErrorInfo(3, "audio could not be decoded as OGG_OPUS")
    assert grpc_harness.store.finish(operation.id, "worker", grpc_harness.clock(), error=error)
    answer = get(grpc_harness, operation.id)
    # REST's `"details": []` is the empty repeated field, which proto3 JSON leaves out.
    assert list(answer.error.details) == []
    assert as_json(answer) == {
        "done": True,
        "error": {"code": 3, "message": "audio could not be decoded as OGG_OPUS"},
        "id": operation.id,
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": SERVICE_ACCOUNT,
        "modifiedAt": "2025-03-02T10:15:09Z",
    }


def test_a_malformed_id_is_not_found(grpc_harness: GrpcHarness) -> None:
    assert_not_found(grpc_harness, "e03-x:y")


def test_a_deleted_operation_is_not_found(grpc_harness: GrpcHarness) -> None:
    operation = queued(grpc_harness, ApiVersion.V2)
    grpc_harness.service.delete(CALLER, operation)
    assert_not_found(grpc_harness, operation.id)


def test_cancel_of_a_finished_operation_returns_it_unchanged(grpc_harness: GrpcHarness) -> None:
    operation = claimed(grpc_harness, ApiVersion.V2)
    assert grpc_harness.store.finish(
        operation.id, "worker", grpc_harness.clock(), result=Transcript()
    )
    before = get(grpc_harness, operation.id)
    grpc_harness.clock.advance(60)
    assert cancel(grpc_harness, operation.id) == before
    assert get(grpc_harness, operation.id) == before
