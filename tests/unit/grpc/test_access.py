"""Identity and access at the gRPC door: the twins of REST's tests of credentials, folders and roles, quotas and
the token exchange (tests/unit/http/test_iam.py, test_errors.py), method by method.

Every twin asserts the code REST puts in its body's `code` and REST's message text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, timedelta

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.protobuf import empty_pb2
from google.rpc import error_details_pb2, status_pb2
from yandex.cloud.ai.stt.v2 import stt_service_pb2 as v2
from yandex.cloud.ai.stt.v2 import stt_service_pb2_grpc as v2_grpc
from yandex.cloud.ai.stt.v3 import stt_pb2, stt_service_pb2, stt_service_pb2_grpc
from yandex.cloud.iam.v1.iam_token_service_pb2 import CreateIamTokenRequest, CreateIamTokenResponse
from yandex.cloud.iam.v1.iam_token_service_pb2_grpc import IamTokenServiceStub
from yandex.cloud.operation.operation_pb2 import Operation as OperationPb
from yandex.cloud.operation.operation_service_pb2 import (
    CancelOperationRequest,
    GetOperationRequest,
)
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from asyncstt.errors import ResourceExhausted
from asyncstt.iam.api_keys import API_KEY_PREFIX, create_api_key
from asyncstt.iam.auth import Principal
from asyncstt.iam.records import ROLE_STT_USER, AuthorizedKeyRecord, RoleBinding
from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec
from asyncstt.settings import QuotaSettings
from tests.unit.grpc.conftest import (
    FOLDER,
    OTHER_ACCOUNT,
    OTHER_FOLDER,
    SERVICE_ACCOUNT,
    START,
    GrpcHarness,
    Metadata,
    refused,
)

CALLER = Principal(FOLDER, SERVICE_ACCOUNT)
PUBLIC_AUDIENCE = "https://iam.api.cloud.yandex.net/iam/v1/tokens"
KEY_ID = "ajekey01"
INVALID_KEY = "the API key is invalid, revoked or expired"

OPERATION_METHODS = ["Get", "Cancel", "GetRecognition", "DeleteRecognition"]
ALL_METHODS = [*OPERATION_METHODS, "LongRunningRecognize", "RecognizeFile"]


def v2_request(
    folder_id: str = "", uri: str = "s3://acme/call.ogg"
) -> v2.LongRunningRecognitionRequest:
    request = v2.LongRunningRecognitionRequest()
    request.config.specification.language_code = "en-US"
    request.config.folder_id = folder_id
    request.audio.uri = uri
    return request


def v3_request(language: str = "en-US") -> stt_pb2.RecognizeFileRequest:
    request = stt_pb2.RecognizeFileRequest(uri="s3://acme/call.ogg")
    restriction = request.recognition_model.language_restriction
    restriction.restriction_type = stt_pb2.LanguageRestrictionOptions.WHITELIST
    restriction.language_code.append(language)
    return request


def call(harness: GrpcHarness, method: str, operation_id: str, metadata: Metadata) -> object:
    """One call of `method` (a name above) about `operation_id`; the stream of GetRecognition read whole."""
    operations = harness.stub(OperationServiceStub)
    recognizer = harness.stub(stt_service_pb2_grpc.AsyncRecognizerStub)
    if method == "Get":
        return operations.Get(GetOperationRequest(operation_id=operation_id), metadata=metadata)
    if method == "Cancel":
        return operations.Cancel(
            CancelOperationRequest(operation_id=operation_id), metadata=metadata
        )
    if method == "GetRecognition":
        request = stt_service_pb2.GetRecognitionRequest(operation_id=operation_id)
        return list(recognizer.GetRecognition(request, metadata=metadata))
    if method == "DeleteRecognition":
        return recognizer.DeleteRecognition(
            stt_pb2.DeleteRecognitionRequest(operation_id=operation_id), metadata=metadata
        )
    if method == "LongRunningRecognize":
        return submit_v2(harness, v2_request(), metadata)
    return submit_v3(harness, v3_request(), metadata)


def submit_v2(
    harness: GrpcHarness, request: v2.LongRunningRecognitionRequest, metadata: Metadata
) -> OperationPb:
    answer: OperationPb = harness.stub(v2_grpc.SttServiceStub).LongRunningRecognize(
        request, metadata=metadata
    )
    return answer


def submit_v3(
    harness: GrpcHarness, request: stt_pb2.RecognizeFileRequest, metadata: Metadata
) -> OperationPb:
    answer: OperationPb = harness.stub(stt_service_pb2_grpc.AsyncRecognizerStub).RecognizeFile(
        request, metadata=metadata
    )
    return answer


def get(harness: GrpcHarness, operation_id: str, metadata: Metadata) -> OperationPb:
    answer: OperationPb = harness.stub(OperationServiceStub).Get(
        GetOperationRequest(operation_id=operation_id), metadata=metadata
    )
    return answer


def status(
    harness: GrpcHarness, method: str, operation_id: str, metadata: Metadata
) -> tuple[int, str]:
    """The refusal's code as a number (REST's body `code`) and its message."""
    error = refused(functools.partial(call, harness, method, operation_id, metadata))
    details = error.details()
    assert details is not None
    return error.code().value[0], details


def rpc_status(error: grpc.Call) -> status_pb2.Status:
    details = dict(error.trailing_metadata() or ())["grpc-status-details-bin"]
    assert isinstance(details, bytes)
    return status_pb2.Status.FromString(details)


def submitted(harness: GrpcHarness, api: ApiVersion = ApiVersion.V3) -> Operation:
    return harness.service.submit(
        CALLER, RecognitionSpec(language="en-US"), uri="s3://acme/call.ogg", content=None, api=api
    )


def untouched(harness: GrpcHarness, operation: Operation) -> bool:
    stored = harness.store.get(operation.id)
    return stored is not None and not stored.done and not stored.cancel_requested


# --- Folders and roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", OPERATION_METHODS)
def test_another_folders_operation_is_not_found_on_every_method(
    grpc_harness: GrpcHarness, method: str
) -> None:
    operation = submitted(grpc_harness)
    other = grpc_harness.other_metadata
    for metadata in (other, (*other, ("x-folder-id", OTHER_FOLDER))):
        assert status(grpc_harness, method, operation.id, metadata) == (
            5,
            f"operation {operation.id} not found",
        )
    assert untouched(grpc_harness, operation)


@pytest.mark.parametrize("method", OPERATION_METHODS)
def test_a_role_on_the_operations_folder_reaches_it(grpc_harness: GrpcHarness, method: str) -> None:
    operation = submitted(grpc_harness)
    grpc_harness.identity.bind_role(RoleBinding(FOLDER, OTHER_ACCOUNT, ROLE_STT_USER, START))
    other = grpc_harness.other_metadata
    if method == "GetRecognition":
        # A queued operation's results are FAILED_PRECONDITION "not done yet": it was found.
        assert status(grpc_harness, method, operation.id, other) == (
            9,
            f"operation {operation.id} is not done yet",
        )
        return
    answer = call(grpc_harness, method, operation.id, other)
    if method == "DeleteRecognition":
        assert answer == empty_pb2.Empty()
        assert grpc_harness.store.get(operation.id) is None
    else:
        assert isinstance(answer, OperationPb)
        assert (answer.id, answer.created_by) == (operation.id, SERVICE_ACCOUNT)


def test_a_role_on_another_folder_submits_there(grpc_harness: GrpcHarness) -> None:
    grpc_harness.identity.bind_role(
        RoleBinding(OTHER_FOLDER, SERVICE_ACCOUNT, ROLE_STT_USER, START)
    )
    own = grpc_harness.metadata
    by_v2 = submit_v2(grpc_harness, v2_request(folder_id=OTHER_FOLDER), own)
    by_v3 = submit_v3(grpc_harness, v3_request(), (*own, ("x-folder-id", OTHER_FOLDER)))
    for answer in (by_v2, by_v3):
        stored = grpc_harness.store.get(answer.id)
        assert stored is not None
        assert (stored.folder_id, stored.created_by) == (OTHER_FOLDER, SERVICE_ACCOUNT)
        # The owner folder's own account sees it; the submitting account polls it without naming it.
        assert get(grpc_harness, stored.id, grpc_harness.other_metadata).id == stored.id
        assert get(grpc_harness, stored.id, own).id == stored.id


def _key_id(harness: GrpcHarness) -> str:
    key = harness.metadata[0][1].split(" ", 1)[1]
    return key.removeprefix(API_KEY_PREFIX).split(".")[0]


@pytest.mark.parametrize("method", ALL_METHODS)
def test_every_method_refuses_missing_bad_revoked_and_expired_credentials(
    grpc_harness: GrpcHarness, method: str
) -> None:
    operation = submitted(grpc_harness)
    _, expiring = create_api_key(
        grpc_harness.identity,
        FOLDER,
        SERVICE_ACCOUNT,
        START,
        expires_at=START + timedelta(seconds=5),
    )
    token = grpc_harness.authenticator.tokens.issue(SERVICE_ACCOUNT).iam_token
    grpc_harness.identity.revoke_api_key(_key_id(grpc_harness), START)
    grpc_harness.clock.advance(12 * 3600)
    cases: list[tuple[Metadata, str]] = [
        ((), "missing Authorization header; send 'Api-Key <API key>' or 'Bearer <IAM token>'"),
        ((("authorization", "Api-Key AQVNaje00000000000000000.x"),), INVALID_KEY),
        (grpc_harness.metadata, INVALID_KEY),
        ((("authorization", f"Api-key {expiring}"),), INVALID_KEY),
        (
            (("authorization", f"Bearer {token}"),),
            "the IAM token has expired; get a new one from POST /iam/v1/tokens",
        ),
    ]
    for metadata, message in cases:
        assert status(grpc_harness, method, operation.id, metadata) == (16, message)
    assert untouched(grpc_harness, operation)
    claimed = grpc_harness.store.claim("worker", 30, grpc_harness.clock())
    assert claimed is not None
    assert claimed.operation.id == operation.id
    assert grpc_harness.store.claim("worker", 30, grpc_harness.clock()) is None, (
        "no submit got through"
    )


def test_an_account_without_the_role_is_permission_denied_everywhere(
    grpc_harness: GrpcHarness,
) -> None:
    operation = submitted(grpc_harness)
    for binding in grpc_harness.identity.list_role_bindings():
        grpc_harness.identity.unbind_role(
            binding.folder_id, binding.service_account_id, binding.role
        )
    assert grpc_harness.identity.list_role_bindings() == []
    for method in ALL_METHODS:
        assert status(grpc_harness, method, operation.id, grpc_harness.metadata) == (
            7,
            f"service account {SERVICE_ACCOUNT} has no role ai.speechkit-stt.user on folder {FOLDER}",
        )
    assert untouched(grpc_harness, operation)


@pytest.mark.parametrize("method", [*OPERATION_METHODS, "RecognizeFile"])
def test_a_foreign_x_folder_id_is_permission_denied(grpc_harness: GrpcHarness, method: str) -> None:
    operation = submitted(grpc_harness)
    metadata = (*grpc_harness.metadata, ("x-folder-id", OTHER_FOLDER))
    assert status(grpc_harness, method, operation.id, metadata) == (
        7,
        f"service account {SERVICE_ACCOUNT} has no role ai.speechkit-stt.user on folder {OTHER_FOLDER}",
    )
    assert untouched(grpc_harness, operation)


# --- Quotas ---------------------------------------------------------------------------------------------


@pytest.fixture
def limited(make_grpc: Callable[..., GrpcHarness]) -> GrpcHarness:
    return make_grpc(
        quotas=QuotaSettings(submits_per_hour=2, v2_polls_per_hour=3, v3_polls_per_second=2)
    )


def test_submits_of_both_versions_share_the_quota_with_its_retry_delay(
    limited: GrpcHarness,
) -> None:
    submit_v2(limited, v2_request(), limited.metadata)
    submit_v3(limited, v3_request(), limited.metadata)
    error = refused(lambda: submit_v2(limited, v2_request(), limited.metadata))
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "2 recognition requests per hour" in (error.details() or "")
    retry = error_details_pb2.RetryInfo()
    assert rpc_status(error).details[1].Unpack(retry)
    # 10:15:07 → the hour ends in 44 min 53 s.
    assert retry.retry_delay.seconds == 44 * 60 + 53
    assert submit_v2(limited, v2_request(), limited.other_metadata).created_by == OTHER_ACCOUNT
    [event] = limited.identity.list_audit()
    assert (event.actor, event.outcome) == (SERVICE_ACCOUNT, "resource_exhausted")


def test_ids_that_name_none_of_the_callers_operations_spend_v2_polls(limited: GrpcHarness) -> None:
    own = submitted(limited)
    limited.store.create(replace(own, id="f8dforeign0000000000", folder_id="b1gthird"))
    metadata = limited.metadata
    for guessed in ("f8dguessed0000000000", "f8dforeign0000000000", "e03guessed0000000000"):
        assert status(limited, "Cancel", guessed, metadata) == (5, f"operation {guessed} not found")
    assert status(limited, "Get", "e03guessed0000000000", metadata)[0] == 8
    # The v3 polls are untouched; GetRecognition of an unknown id spends a v3 poll.
    assert get(limited, own.id, metadata).id == own.id
    assert status(limited, "GetRecognition", "f8dguessed0000000000", metadata) == (
        5,
        "operation f8dguessed0000000000 not found",
    )
    assert status(limited, "Get", own.id, metadata)[0] == 8


def test_refused_v3_submits_spend_no_quota(limited: GrpcHarness) -> None:
    """The twin of REST's v2 test; the v2 one is in test_stt_v2.py."""
    foreign = (*limited.metadata, ("x-folder-id", OTHER_FOLDER))
    for _ in range(3):
        denied = refused(lambda: submit_v3(limited, v3_request(), foreign))
        assert denied.code() is grpc.StatusCode.PERMISSION_DENIED
        # A language no installed model serves: refused by the service, after the role check.
        invalid = refused(lambda: submit_v3(limited, v3_request("xx-XX"), limited.metadata))
        assert invalid.code() is grpc.StatusCode.INVALID_ARGUMENT
    submit_v3(limited, v3_request(), limited.metadata)
    submit_v3(limited, v3_request(), limited.metadata)
    exhausted = refused(lambda: submit_v3(limited, v3_request(), limited.metadata))
    assert exhausted.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


def test_anonymous_callers_have_no_quota(make_grpc: Callable[..., GrpcHarness]) -> None:
    harness = make_grpc(auth_required=False, quotas=QuotaSettings(submits_per_hour=1))
    ids: set[str] = set()
    for _ in range(3):
        for answer in (submit_v2(harness, v2_request(), ()), submit_v3(harness, v3_request(), ())):
            assert (answer.done, answer.created_by) == (False, "anonymous")
            stored = harness.store.get(answer.id)
            assert stored is not None
            assert (stored.folder_id, stored.created_by) == ("default", "anonymous")
            ids.add(answer.id)
    assert len(ids) == 6, "each submit queued an operation of its own"


def test_a_quota_refusal_from_the_link_checker_carries_its_retry_delay(
    grpc_harness: GrpcHarness,
) -> None:
    grpc_harness.sources.failures["s3://quota/x"] = ResourceExhausted(
        "too many requests", retry_after_seconds=7
    )
    error = refused(
        lambda: submit_v2(grpc_harness, v2_request(uri="s3://quota/x"), grpc_harness.metadata)
    )
    assert (error.code(), error.details()) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "too many requests",
    )
    details = rpc_status(error)
    assert (details.code, details.message) == (8, "too many requests")
    info, retry = error_details_pb2.RequestInfo(), error_details_pb2.RetryInfo()
    assert details.details[0].Unpack(info)
    assert info.request_id == dict(error.trailing_metadata() or ())["x-request-id"]
    assert details.details[1].Unpack(retry)
    assert retry.retry_delay.seconds == 7


def test_every_call_gets_a_fresh_request_id(grpc_harness: GrpcHarness) -> None:
    def request_id() -> str | bytes:
        error = refused(lambda: get(grpc_harness, "f8dnone", grpc_harness.metadata))
        return dict(error.trailing_metadata() or ())["x-request-id"]

    assert request_id() != request_id()


# --- The token exchange ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def signed_in(grpc_harness: GrpcHarness, private_key: rsa.RSAPrivateKey) -> GrpcHarness:
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = AuthorizedKeyRecord(KEY_ID, SERVICE_ACCOUNT, public_pem.decode(), START)
    grpc_harness.identity.add_authorized_key(record)
    return grpc_harness


def own_audience(harness: GrpcHarness) -> str:
    return f"https://iam.{harness.door.public_address}/iam/v1/tokens"


def make_jwt(private_key: rsa.RSAPrivateKey, aud: str, kid: str = KEY_ID) -> str:
    claims = {"iss": SERVICE_ACCOUNT, "aud": aud, "iat": START, "exp": START + timedelta(hours=1)}
    return jwt.encode(claims, private_key, algorithm="PS256", headers={"typ": "JWT", "kid": kid})


def create(harness: GrpcHarness, signed: str) -> CreateIamTokenResponse:
    answer: CreateIamTokenResponse = harness.stub(IamTokenServiceStub).Create(
        CreateIamTokenRequest(jwt=signed)
    )
    return answer


@pytest.mark.parametrize("public", [False, True])
def test_a_jwt_buys_an_iam_token_that_works_for_submit_and_poll(
    signed_in: GrpcHarness, private_key: rsa.RSAPrivateKey, public: bool
) -> None:
    aud = PUBLIC_AUDIENCE if public else own_audience(signed_in)
    answer = create(signed_in, make_jwt(private_key, aud))
    assert answer.expires_at.ToDatetime(UTC) == START + timedelta(hours=12)
    bearer = (("authorization", f"Bearer {answer.iam_token}"),)
    submit = submit_v2(signed_in, v2_request(), bearer)
    poll = get(signed_in, submit.id, bearer)
    assert (poll.id, poll.created_by) == (submit.id, SERVICE_ACCOUNT)


def test_the_token_exchange_refuses_bad_jwts(
    signed_in: GrpcHarness, private_key: rsa.RSAPrivateKey
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    audience = own_audience(signed_in)
    for signed, message in [
        (make_jwt(private_key, "https://example.com/iam/v1/tokens"), "aud is wrong"),
        (make_jwt(other, audience), "does not verify with key ajekey01"),
        (make_jwt(private_key, audience, kid="ajenokey"), "unknown or revoked"),
    ]:
        error = refused(functools.partial(create, signed_in, signed))
        assert error.code() is grpc.StatusCode.UNAUTHENTICATED
        assert message in (error.details() or "")
    assert [e.outcome for e in signed_in.identity.list_audit()] == ["unauthenticated"] * 3
    signed_in.clock.advance(3600 + 31)
    error = refused(lambda: create(signed_in, make_jwt(private_key, audience)))
    assert (error.code(), error.details()) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "the JWT has expired; sign a new one",
    )
