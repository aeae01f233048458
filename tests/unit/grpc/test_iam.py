"""`yandex.cloud.iam.v1.IamTokenService/Create`: the JWT the yandexcloud SDK signs, exchanged by REST's rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yandex.cloud.iam.v1.iam_token_service_pb2 import (
    CreateIamTokenForServiceAccountRequest,
    CreateIamTokenRequest,
    CreateIamTokenResponse,
)
from yandex.cloud.iam.v1.iam_token_service_pb2_grpc import IamTokenServiceStub
from yandex.cloud.operation.operation_service_pb2 import GetOperationRequest
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub
from yandexcloud._auth_fabric import ServiceAccountAuth

from asyncstt.clock import utcnow
from asyncstt.iam.auth import Principal
from asyncstt.iam.records import AuthorizedKeyRecord
from asyncstt.iam.tokens import TOKEN_PREFIX
from asyncstt.operation import ApiVersion
from asyncstt.recognition import RecognitionSpec
from tests.unit.grpc.conftest import FOLDER, SERVICE_ACCOUNT, START, GrpcHarness, refused

KEY_ID = "ajekey01"
PUBLIC_AUDIENCE = "https://iam.api.cloud.yandex.net/iam/v1/tokens"


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def signed_in(grpc_harness: GrpcHarness, private_key: rsa.RSAPrivateKey) -> GrpcHarness:
    """The harness with an authorized key of SERVICE_ACCOUNT, its clock at the real time (the SDK signs now)."""
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = AuthorizedKeyRecord(KEY_ID, SERVICE_ACCOUNT, public_pem.decode(), START)
    grpc_harness.identity.add_authorized_key(record)
    grpc_harness.clock.now = utcnow()
    return grpc_harness


def sdk_jwt(private_key: rsa.RSAPrivateKey, endpoint: str) -> str:
    """The JWT yandexcloud's SDK(endpoint=…, service_account_key=…) signs for its IAM channel."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = {"id": KEY_ID, "service_account_id": SERVICE_ACCOUNT, "private_key": pem}
    token: str = ServiceAccountAuth(key, endpoint).get_token_request().jwt
    return token


def create(harness: GrpcHarness, request: CreateIamTokenRequest) -> CreateIamTokenResponse:
    answer: CreateIamTokenResponse = harness.stub(IamTokenServiceStub).Create(request)
    return answer


def test_the_sdks_jwt_for_the_public_address_buys_a_token_that_authenticates(
    signed_in: GrpcHarness, private_key: rsa.RSAPrivateKey
) -> None:
    signed = sdk_jwt(private_key, signed_in.door.public_address)
    answer = create(signed_in, CreateIamTokenRequest(jwt=signed))
    assert answer.iam_token.startswith(TOKEN_PREFIX)
    expected = signed_in.clock() + timedelta(hours=12)
    assert abs(answer.expires_at.ToDatetime(UTC) - expected) < timedelta(seconds=1)
    operation = signed_in.service.submit(
        Principal(FOLDER, SERVICE_ACCOUNT),
        RecognitionSpec(language="en-US"),
        uri="s3://acme/call.ogg",
        content=None,
        api=ApiVersion.V3,
    )
    found = signed_in.stub(OperationServiceStub).Get(
        GetOperationRequest(operation_id=operation.id),
        metadata=(("authorization", f"Bearer {answer.iam_token}"),),
    )
    assert (found.id, found.created_by) == (operation.id, SERVICE_ACCOUNT)


def test_the_same_jwt_is_exchanged_again(
    signed_in: GrpcHarness, private_key: rsa.RSAPrivateKey
) -> None:
    request = CreateIamTokenRequest(jwt=sdk_jwt(private_key, signed_in.door.public_address))
    first, second = create(signed_in, request), create(signed_in, request)
    assert first.iam_token != second.iam_token
    for answer in (first, second):
        account = signed_in.authenticator.tokens.verify(answer.iam_token)
        assert account.id == SERVICE_ACCOUNT


def test_a_configured_audience_is_accepted_too(
    signed_in: GrpcHarness, private_key: rsa.RSAPrivateKey
) -> None:
    # What the SDK signs when its endpoint is left at the public service's.
    answer = create(
        signed_in, CreateIamTokenRequest(jwt=sdk_jwt(private_key, "api.cloud.yandex.net"))
    )
    assert answer.iam_token.startswith(TOKEN_PREFIX)


def test_another_audience_is_unauthenticated_naming_the_accepted_ones(
    signed_in: GrpcHarness, private_key: rsa.RSAPrivateKey
) -> None:
    request = CreateIamTokenRequest(jwt=sdk_jwt(private_key, "stt.example.com:443"))
    error = refused(lambda: create(signed_in, request))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert error.details() == (
        "the JWT's aud is wrong; it must be one of: "
        f"https://iam.{signed_in.door.public_address}/iam/v1/tokens, {PUBLIC_AUDIENCE}"
    )


def test_an_expired_jwt_is_unauthenticated(
    grpc_harness: GrpcHarness, private_key: rsa.RSAPrivateKey
) -> None:
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    grpc_harness.identity.add_authorized_key(
        AuthorizedKeyRecord(KEY_ID, SERVICE_ACCOUNT, public_pem.decode(), START)
    )
    issued = datetime(2025, 3, 2, 8, 0, tzinfo=UTC)
    claims = {
        "iss": SERVICE_ACCOUNT,
        "aud": f"https://iam.{grpc_harness.door.public_address}/iam/v1/tokens",
        "iat": issued,
        "exp": issued + timedelta(hours=1),
    }
    signed = jwt.encode(claims, private_key, algorithm="PS256", headers={"kid": KEY_ID})
    error = refused(lambda: create(grpc_harness, CreateIamTokenRequest(jwt=signed)))
    assert (error.code(), error.details()) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "the JWT has expired; sign a new one",
    )


@pytest.mark.parametrize(
    "request_",
    [
        CreateIamTokenRequest(yandex_passport_oauth_token="y0_AgAAAAexample"),  # noqa: S106
        CreateIamTokenRequest(),
    ],
)
def test_oauth_tokens_are_refused(
    grpc_harness: GrpcHarness, request_: CreateIamTokenRequest
) -> None:
    error = refused(lambda: create(grpc_harness, request_))
    assert (error.code(), error.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "send jwt: a JWT signed with an authorized key of the service account; "
        "OAuth tokens are not accepted",
    )


def test_tokens_for_other_service_accounts_are_not_served(grpc_harness: GrpcHarness) -> None:
    stub = grpc_harness.stub(IamTokenServiceStub)
    request = CreateIamTokenForServiceAccountRequest(service_account_id=SERVICE_ACCOUNT)
    error = refused(lambda: stub.CreateForServiceAccount(request))
    assert error.code() is grpc.StatusCode.UNIMPLEMENTED
    assert error.details() == (
        "this server only exchanges a service account's JWT for an IAM token (Create)"
    )
