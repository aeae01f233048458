"""Every call's envelope: credentials from `authorization`, request ids in the trailing metadata, errors with
REST's codes and messages, their `google.rpc.Status` details, the audit of refusals and the metrics."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from yandex.cloud.operation.operation_service_pb2 import GetOperationRequest
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from asyncstt.iam.api_keys import create_api_key
from asyncstt.iam.auth import Principal
from asyncstt.operation import ApiVersion
from asyncstt.recognition import RecognitionSpec
from tests.unit.grpc.conftest import FOLDER, SERVICE_ACCOUNT, START, GrpcHarness, Metadata, refused

GET = "/yandex.cloud.operation.OperationService/Get"
INVALID_KEY = "the API key is invalid, revoked or expired"


def get(harness: GrpcHarness, metadata: Metadata, operation_id: str = "f8dnone") -> Any:
    """Get with `with_call`: the answer and the call, for its trailing metadata."""
    return harness.stub(OperationServiceStub).Get.with_call(
        GetOperationRequest(operation_id=operation_id), metadata=metadata
    )


def trailing(call: grpc.Call) -> dict[str, str | bytes]:
    return dict(call.trailing_metadata() or ())


def test_credentials_are_refused_with_the_rest_messages(grpc_harness: GrpcHarness) -> None:
    _, expiring = create_api_key(
        grpc_harness.identity,
        FOLDER,
        SERVICE_ACCOUNT,
        START,
        expires_at=START + timedelta(seconds=5),
    )
    token = grpc_harness.authenticator.tokens.issue(SERVICE_ACCOUNT).iam_token
    grpc_harness.clock.advance(12 * 3600)
    cases: list[tuple[Metadata, str]] = [
        ((), "missing Authorization header; send 'Api-Key <API key>' or 'Bearer <IAM token>'"),
        ((("authorization", "Api-Key AQVNaje00000000000000000.x"),), INVALID_KEY),
        ((("authorization", f"api-KEY {expiring}"),), INVALID_KEY),
        (
            (("authorization", f"Bearer {token}"),),
            "the IAM token has expired; get a new one from POST /iam/v1/tokens",
        ),
        (
            (("authorization", "Basic dXNlcjpwYXNz"),),
            "the Authorization header must be 'Api-Key <API key>' or 'Bearer <IAM token>'",
        ),
    ]
    for metadata, message in cases:
        error = refused(functools.partial(get, grpc_harness, metadata))
        assert (error.code(), error.details()) == (grpc.StatusCode.UNAUTHENTICATED, message)


def test_the_scheme_is_read_in_any_case(grpc_harness: GrpcHarness) -> None:
    key = grpc_harness.metadata[0][1].split(" ", 1)[1]
    for scheme in ("Api-Key", "api-key", "API-KEY", "Bearer", "bearer"):
        error = refused(
            functools.partial(get, grpc_harness, (("authorization", f"{scheme} {key}"),))
        )
        # Authenticated: the operation is looked for, and is not there.
        assert error.code() is grpc.StatusCode.NOT_FOUND


def test_refusals_are_audited_and_counted(grpc_harness: GrpcHarness) -> None:
    refused(lambda: get(grpc_harness, (("authorization", "Api-Key x"),)))
    foreign = (*grpc_harness.metadata, ("x-folder-id", "b1gforeign"))
    refused(lambda: get(grpc_harness, foreign))
    refused(lambda: get(grpc_harness, grpc_harness.metadata))
    audit = grpc_harness.identity.list_audit()[::-1]
    assert [(e.actor, e.action, e.target, e.outcome) for e in audit] == [
        ("anonymous", "request.denied", f"gRPC {GET}", "unauthenticated"),
        (SERVICE_ACCOUNT, "request.denied", f"gRPC {GET}", "permission_denied"),
    ]
    assert "has no role ai.speechkit-stt.user on folder b1gforeign" in audit[1].detail
    rendered = grpc_harness.metrics.render().decode()
    for code, name in ((16, "UNAUTHENTICATED"), (7, "PERMISSION_DENIED"), (5, "NOT_FOUND")):
        assert f'asyncstt_errors_total{{code="{code}",where="request"}} 1.0' in rendered
        assert f'asyncstt_grpc_requests_total{{code="{name}",method="{GET}"}} 1.0' in rendered


def submitted(harness: GrpcHarness) -> str:
    operation = harness.service.submit(
        Principal(FOLDER, SERVICE_ACCOUNT),
        RecognitionSpec(language="en-US"),
        uri="s3://acme/call.ogg",
        content=None,
        api=ApiVersion.V3,
    )
    return operation.id


def test_a_successful_call_is_counted(grpc_harness: GrpcHarness) -> None:
    operation_id = submitted(grpc_harness)
    answer, _ = get(grpc_harness, grpc_harness.metadata, operation_id)
    assert answer.id == operation_id
    rendered = grpc_harness.metrics.render().decode()
    assert f'asyncstt_grpc_requests_total{{code="OK",method="{GET}"}} 1.0' in rendered


def test_the_client_request_id_is_echoed_with_a_request_id(grpc_harness: GrpcHarness) -> None:
    sent = (*grpc_harness.metadata, ("x-client-request-id", "3f1c-aa.b_9"))
    error = refused(lambda: get(grpc_harness, sent))
    ids = trailing(error)
    assert ids["x-client-request-id"] == "3f1c-aa.b_9"
    request_id = ids["x-request-id"]
    assert isinstance(request_id, str)
    assert len(request_id) == 36


def test_the_client_request_id_is_echoed_on_success_too(grpc_harness: GrpcHarness) -> None:
    sent = (*grpc_harness.metadata, ("x-client-request-id", "c0ffee"))
    _, call = get(grpc_harness, sent, submitted(grpc_harness))
    assert trailing(call)["x-client-request-id"] == "c0ffee"


@pytest.mark.parametrize("client_id", ["has spaces", "x" * 129, "semi;colon"])
def test_a_client_request_id_that_is_not_a_plain_token_is_dropped(
    grpc_harness: GrpcHarness, client_id: str
) -> None:
    sent = (*grpc_harness.metadata, ("x-client-request-id", client_id))
    ids = trailing(refused(lambda: get(grpc_harness, sent)))
    assert "x-client-request-id" not in ids
    assert "x-request-id" in ids


def test_errors_carry_their_google_rpc_status(grpc_harness: GrpcHarness) -> None:
    error = refused(lambda: get(grpc_harness, grpc_harness.metadata, "f8dmissing"))
    ids = trailing(error)
    details = ids["grpc-status-details-bin"]
    assert isinstance(details, bytes)
    status = status_pb2.Status.FromString(details)
    assert (status.code, status.message) == (5, "operation f8dmissing not found")
    info = error_details_pb2.RequestInfo()
    assert status.details[0].Unpack(info)
    assert info.request_id == ids["x-request-id"]
    assert len(status.details) == 1


def test_a_bug_is_internal_naming_the_id_it_was_logged_under(
    grpc_harness: GrpcHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(grpc_harness.service, "find", broken)
    sent = (*grpc_harness.metadata, ("x-client-request-id", "rid-1"))
    error = refused(lambda: get(grpc_harness, sent))
    request_id = trailing(error)["x-request-id"]
    assert isinstance(request_id, str)
    assert (error.code(), error.details()) == (
        grpc.StatusCode.INTERNAL,
        f"internal error; it was logged under error id {request_id}",
    )
    [record] = [r for r in caplog.records if r.name == "asyncstt.grpc.context"]
    assert record.exc_info is not None
    assert f"request id {request_id}, client request id rid-1" in record.getMessage()
    rendered = grpc_harness.metrics.render().decode()
    assert 'asyncstt_errors_total{code="13",where="request"} 1.0' in rendered


def test_without_required_auth_a_call_without_credentials_is_anonymous(
    make_grpc: Callable[..., GrpcHarness],
) -> None:
    harness = make_grpc(auth_required=False)
    error = refused(lambda: get(harness, ()))
    assert (error.code(), error.details()) == (
        grpc.StatusCode.NOT_FOUND,
        "operation f8dnone not found",
    )
