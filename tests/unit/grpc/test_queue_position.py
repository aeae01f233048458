"""OperationService Get of a queued operation carries its place in the queue, as REST's `/operations/{id}`."""

from __future__ import annotations

from yandex.cloud.operation.operation_service_pb2 import GetOperationRequest
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from asyncstt.iam.auth import Principal
from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec
from asyncstt.wire.progress import RecognitionProgress
from tests.unit.grpc.conftest import FOLDER, SERVICE_ACCOUNT, GrpcHarness

CALLER = Principal(FOLDER, SERVICE_ACCOUNT)


def submitted(harness: GrpcHarness) -> Operation:
    harness.clock.advance(1)
    return harness.service.submit(
        CALLER,
        RecognitionSpec(language="en-US"),
        uri="s3://acme/call.ogg",
        content=None,
        api=ApiVersion.V2,
    )


def position(harness: GrpcHarness, operation_id: str) -> int:
    answer = harness.stub(OperationServiceStub).Get(
        GetOperationRequest(operation_id=operation_id), metadata=harness.metadata
    )
    progress = RecognitionProgress()
    assert answer.metadata.Unpack(progress)
    return int(progress.queue_position)


def test_a_queued_operation_has_its_position_and_a_running_one_none(
    grpc_harness: GrpcHarness,
) -> None:
    first = submitted(grpc_harness)
    second = submitted(grpc_harness)
    assert (position(grpc_harness, first.id), position(grpc_harness, second.id)) == (1, 2)
    assert grpc_harness.store.claim("worker", 30, grpc_harness.clock()) is not None
    # Running: the field is unset, which proto3 reads as 0.
    assert (position(grpc_harness, first.id), position(grpc_harness, second.id)) == (0, 1)
