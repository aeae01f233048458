"""`yandex.cloud.operation.OperationService` Get and Cancel: the twins of REST's `/operations/{id}` tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import grpc
import pytest
from google.protobuf import empty_pb2
from google.rpc import error_details_pb2, status_pb2
from yandex.cloud.ai.stt.v2.stt_service_pb2 import LongRunningRecognitionResponse
from yandex.cloud.operation.operation_pb2 import Operation as OperationPb
from yandex.cloud.operation.operation_service_pb2 import (
    CancelOperationRequest,
    GetOperationRequest,
)
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from asyncstt.errors import ErrorInfo
from asyncstt.iam.auth import Principal
from asyncstt.operation import ApiVersion, Operation, Progress
from asyncstt.recognition import RecognitionSpec, Transcript, Utterance, Word
from asyncstt.settings import QuotaSettings
from tests.unit.grpc.conftest import FOLDER, SERVICE_ACCOUNT, GrpcHarness, Metadata, refused

CALLER = Principal(FOLDER, SERVICE_ACCOUNT)
CREATED = 1740910507  # 2025-03-02T10:15:07Z, the harness's START


def submitted(harness: GrpcHarness, api: ApiVersion = ApiVersion.V2) -> Operation:
    return harness.service.submit(
        CALLER, RecognitionSpec(language="en-US"), uri="s3://acme/call.ogg", content=None, api=api
    )


def claimed(harness: GrpcHarness, api: ApiVersion = ApiVersion.V2) -> Operation:
    operation = submitted(harness, api)
    harness.clock.advance(1)
    assert harness.store.claim("worker", 30, harness.clock()) is not None
    return operation


def get(harness: GrpcHarness, operation_id: str, metadata: Metadata | None = None) -> OperationPb:
    stub = harness.stub(OperationServiceStub)
    answer: OperationPb = stub.Get(
        GetOperationRequest(operation_id=operation_id),
        metadata=harness.metadata if metadata is None else metadata,
    )
    return answer


def cancel(
    harness: GrpcHarness, operation_id: str, metadata: Metadata | None = None
) -> OperationPb:
    stub = harness.stub(OperationServiceStub)
    answer: OperationPb = stub.Cancel(
        CancelOperationRequest(operation_id=operation_id),
        metadata=harness.metadata if metadata is None else metadata,
    )
    return answer


def assert_not_found(call: Callable[[], object], operation_id: str) -> None:
    error = refused(call)
    assert (error.code(), error.details()) == (
        grpc.StatusCode.NOT_FOUND,
        f"operation {operation_id} not found",
    )


def test_a_running_operation_shows_its_progress(grpc_harness: GrpcHarness) -> None:
    operation = claimed(grpc_harness)
    grpc_harness.clock.advance(3)
    progress = Progress(processed_seconds=3.5, total_seconds=11.0, stage="recognising")
    assert grpc_harness.store.set_progress(operation.id, "worker", progress, grpc_harness.clock())
    answer = get(grpc_harness, operation.id)
    assert (answer.id, answer.done, answer.created_by) == (operation.id, False, SERVICE_ACCOUNT)
    assert (answer.created_at.seconds, answer.modified_at.seconds) == (CREATED, CREATED + 4)
    assert answer.metadata.type_url == "type.googleapis.com/asyncstt.v1.RecognitionProgress"
    assert answer.description == ""
    assert not answer.HasField("response")


def test_a_finished_v2_operation_packs_its_long_running_recognition_response(
    grpc_harness: GrpcHarness,
) -> None:
    operation = claimed(grpc_harness)
    utterances = (
        Utterance(0, 0.42, 0.86, (Word("good", 0.42, 0.86),), "good", "Good."),
        Utterance(1, 2.9, 3.15, (Word("twelve", 2.9, 3.15, 0.5),), "twelve", "12", confidence=0.75),
    )
    grpc_harness.clock.advance(33)
    transcript = Transcript(utterances=utterances, channels=2, duration_seconds=4.0)
    assert grpc_harness.store.finish(
        operation.id, "worker", grpc_harness.clock(), result=transcript
    )
    answer = get(grpc_harness, operation.id)
    assert answer.done
    assert answer.modified_at.seconds == CREATED + 34
    response = LongRunningRecognitionResponse()
    assert answer.response.Unpack(response)
    chunks = [(c.channel_tag, c.alternatives[0].text) for c in response.chunks]
    assert chunks == [(1, "Good."), (2, "12")]
    assert response.chunks[1].alternatives[0].words[0].word == "twelve"


def test_a_finished_v3_operation_packs_empty_and_is_described(
    grpc_harness: GrpcHarness,
) -> None:
    operation = claimed(grpc_harness, ApiVersion.V3)
    assert grpc_harness.store.finish(
        operation.id, "worker", grpc_harness.clock(), result=Transcript()
    )
    answer = get(grpc_harness, operation.id)
    assert (answer.done, answer.description) == (True, "STT v3 async recognition")
    assert answer.response.Is(empty_pb2.Empty.DESCRIPTOR)
    assert (answer.created_by, answer.created_at.seconds) == (SERVICE_ACCOUNT, CREATED)


def test_a_failed_operation_carries_its_error(grpc_harness: GrpcHarness) -> None:
    operation = claimed(grpc_harness)
    error = ErrorInfo(3, "audio could not be decoded as OGG_OPUS")
    assert grpc_harness.store.finish(operation.id, "worker", grpc_harness.clock(), error=error)
    answer = get(grpc_harness, operation.id)
    assert answer.done
    assert (answer.error.code, answer.error.message) == (
        3,
        "audio could not be decoded as OGG_OPUS",
    )


def test_another_folders_operation_is_not_found_like_a_missing_one(
    grpc_harness: GrpcHarness,
) -> None:
    operation = submitted(grpc_harness)
    other = grpc_harness.other_metadata
    assert_not_found(lambda: get(grpc_harness, operation.id, other), operation.id)
    assert_not_found(lambda: cancel(grpc_harness, operation.id, other), operation.id)
    assert_not_found(lambda: get(grpc_harness, "e03doesnotexist00000"), "e03doesnotexist00000")
    assert not grpc_harness.service.get(CALLER, operation.id).done


def test_cancel_of_a_queued_operation_ends_it(grpc_harness: GrpcHarness) -> None:
    operation = submitted(grpc_harness)
    grpc_harness.clock.advance(2)
    answer = cancel(grpc_harness, operation.id)
    assert answer.done
    assert (answer.error.code, answer.error.message) == (1, "cancelled")
    assert answer.modified_at.seconds == CREATED + 2
    assert get(grpc_harness, operation.id) == answer


def test_cancel_of_a_running_operation_is_requested(grpc_harness: GrpcHarness) -> None:
    operation = claimed(grpc_harness)
    assert not cancel(grpc_harness, operation.id).done
    stored = grpc_harness.store.get(operation.id)
    assert stored is not None
    assert stored.cancel_requested


def test_x_folder_id_narrows_the_search_to_one_folder(grpc_harness: GrpcHarness) -> None:
    operation = submitted(grpc_harness)
    own = (*grpc_harness.metadata, ("x-folder-id", FOLDER))
    assert get(grpc_harness, operation.id, own).id == operation.id
    foreign = (*grpc_harness.metadata, ("x-folder-id", "b1gother"))
    error = refused(lambda: get(grpc_harness, operation.id, foreign))
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error.details() == (
        f"service account {SERVICE_ACCOUNT} has no role ai.speechkit-stt.user on folder b1gother"
    )


@pytest.fixture
def limited(make_grpc: Callable[..., GrpcHarness]) -> GrpcHarness:
    return make_grpc(quotas=QuotaSettings(v2_polls_per_hour=3, v3_polls_per_second=2))


def test_polls_past_the_quota_are_resource_exhausted_with_the_rest_message(
    limited: GrpcHarness,
) -> None:
    v2 = submitted(limited)
    for _ in range(3):
        assert get(limited, v2.id).id == v2.id
    error = refused(lambda: get(limited, v2.id))
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    # 10:15:07 → the hour ends in 44 min 53 s.
    rest_message = (
        f"quota exceeded: service account {SERVICE_ACCOUNT} may send 3 operation status checks "
        f"of API v2 per hour; retry in {44 * 60 + 53} s"
    )
    assert error.details() == rest_message
    details = dict(error.trailing_metadata() or ())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(details)
    assert (status.code, status.message) == (8, rest_message)
    retry = error_details_pb2.RetryInfo()
    assert status.details[1].Unpack(retry)
    assert retry.retry_delay.seconds == 44 * 60 + 53
    [event] = limited.identity.list_audit()
    assert (event.actor, event.outcome, event.target) == (
        SERVICE_ACCOUNT,
        "resource_exhausted",
        "gRPC /yandex.cloud.operation.OperationService/Get",
    )


def test_get_and_cancel_spend_the_poll_quota_of_the_operations_version(
    limited: GrpcHarness,
) -> None:
    v3 = submitted(limited, ApiVersion.V3)
    lookalike = limited.store.create(replace(v3, id="e03" + v3.id[3:]))
    assert get(limited, lookalike.id).id == lookalike.id
    assert cancel(limited, lookalike.id).done
    assert refused(lambda: get(limited, v3.id)).code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    limited.clock.advance(1)
    assert get(limited, v3.id).id == v3.id
