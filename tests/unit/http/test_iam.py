"""Identity and access at the front door: credentials, folders and roles, quotas, the token endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from asyncstt.iam.api_keys import API_KEY_PREFIX, create_api_key
from asyncstt.iam.auth import Principal
from asyncstt.iam.records import ROLE_STT_USER, AuthorizedKeyRecord, RoleBinding
from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec
from asyncstt.settings import QuotaSettings
from tests.factories import v2_request
from tests.unit.http.conftest import (
    FOLDER,
    OTHER_ACCOUNT,
    OTHER_FOLDER,
    SERVICE_ACCOUNT,
    START,
    Harness,
)

V2_SUBMIT = "/speech/stt/v2/longRunningRecognize"
V3_SUBMIT = "/stt/v3/recognizeFileAsync"
TOKENS = "/iam/v1/tokens"
OWN_AUDIENCE = "http://testserver/iam/v1/tokens"
CALLER = Principal(FOLDER, SERVICE_ACCOUNT)
V3_BODY = json.dumps(
    {
        "uri": "s3://acme/call.ogg",
        "recognitionModel": {
            "languageRestriction": {"restrictionType": "WHITELIST", "languageCode": ["en-US"]}
        },
    }
).encode()


def submitted(harness: Harness, api: ApiVersion = ApiVersion.V2) -> Operation:
    return harness.service.submit(
        CALLER, RecognitionSpec(language="en-US"), uri="s3://acme/call.ogg", content=None, api=api
    )


def call(harness: Harness, endpoint: str, operation_id: str, headers: dict[str, str]) -> Any:
    """One request to `endpoint` (a name below) about `operation_id`."""
    client = harness.client
    if endpoint == "get":
        return client.get(f"/operations/{operation_id}", headers=headers)
    if endpoint == "cancel-get":
        return client.get(f"/operations/{operation_id}:cancel", headers=headers)
    if endpoint == "cancel-post":
        return client.post(f"/operations/{operation_id}:cancel", headers=headers)
    if endpoint == "getRecognition":
        return client.get(
            "/stt/v3/getRecognition", params={"operationId": operation_id}, headers=headers
        )
    if endpoint == "deleteRecognition":
        return client.delete(
            "/stt/v3/deleteRecognition", params={"operationId": operation_id}, headers=headers
        )
    if endpoint == "v2":
        return client.post(
            V2_SUBMIT, content=v2_request({"languageCode": "en-US"}), headers=headers
        )
    return client.post(V3_SUBMIT, content=V3_BODY, headers=headers)


OPERATION_ENDPOINTS = ["get", "cancel-get", "cancel-post", "getRecognition", "deleteRecognition"]
ALL_ENDPOINTS = [*OPERATION_ENDPOINTS, "v2", "v3"]


def status(response: Any) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["code"], body["message"]


@pytest.mark.parametrize("endpoint", OPERATION_ENDPOINTS)
def test_another_folders_operation_is_404_on_every_endpoint(
    harness: Harness, endpoint: str
) -> None:
    operation = submitted(harness, ApiVersion.V3)
    for headers in (
        harness.other_headers,
        {**harness.other_headers, "x-folder-id": OTHER_FOLDER},
    ):
        assert status(call(harness, endpoint, operation.id, headers)) == (
            404,
            5,
            f"operation {operation.id} not found",
        )
    assert not harness.service.get(CALLER, operation.id).done


@pytest.mark.parametrize("endpoint", OPERATION_ENDPOINTS)
def test_a_role_on_the_operations_folder_reaches_it(harness: Harness, endpoint: str) -> None:
    operation = submitted(harness, ApiVersion.V3)
    harness.identity.bind_role(RoleBinding(FOLDER, OTHER_ACCOUNT, ROLE_STT_USER, START))
    response = call(harness, endpoint, operation.id, harness.other_headers)
    # getRecognition of a queued operation is 400 "not done yet": it was found.
    assert response.status_code in (200, 400)
    assert response.json().get("code") != 5


def test_a_role_on_another_folder_submits_there(harness: Harness) -> None:
    harness.identity.bind_role(RoleBinding(OTHER_FOLDER, SERVICE_ACCOUNT, ROLE_STT_USER, START))
    v2 = call_v2(harness, folderId=OTHER_FOLDER)
    v3 = harness.client.post(
        V3_SUBMIT, content=V3_BODY, headers={**harness.headers, "x-folder-id": OTHER_FOLDER}
    )
    for response in (v2, v3):
        assert response.status_code == 200
        stored = harness.store.get(response.json()["id"])
        assert stored is not None
        assert (stored.folder_id, stored.created_by) == (OTHER_FOLDER, SERVICE_ACCOUNT)
        # The owner folder's own account sees it; the submitting account polls it without naming it.
        assert call(harness, "get", stored.id, harness.other_headers).status_code == 200
        assert call(harness, "get", stored.id, harness.headers).status_code == 200


def call_v2(harness: Harness, **config: Any) -> Any:
    return harness.client.post(
        V2_SUBMIT, content=v2_request({"languageCode": "en-US"}, **config), headers=harness.headers
    )


def _key_id(harness: Harness) -> str:
    return (
        harness.headers["Authorization"].split(" ", 1)[1].removeprefix(API_KEY_PREFIX).split(".")[0]
    )


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS)
def test_every_endpoint_refuses_missing_bad_revoked_and_expired_credentials(
    harness: Harness, endpoint: str
) -> None:
    operation = submitted(harness, ApiVersion.V3)
    _, expiring = create_api_key(
        harness.identity, FOLDER, SERVICE_ACCOUNT, START, expires_at=START + timedelta(seconds=5)
    )
    token = harness.authenticator.tokens.issue(SERVICE_ACCOUNT).iam_token
    harness.identity.revoke_api_key(_key_id(harness), START)
    harness.clock.advance(12 * 3600)
    invalid_key = "the API key is invalid, revoked or expired"
    for headers, message in [
        ({}, "missing Authorization header; send 'Api-Key <API key>' or 'Bearer <IAM token>'"),
        ({"Authorization": "Api-Key AQVNaje00000000000000000.x"}, invalid_key),
        (harness.headers, invalid_key),
        ({"Authorization": f"Api-key {expiring}"}, invalid_key),
        (
            {"Authorization": f"Bearer {token}"},
            "the IAM token has expired; get a new one from POST /iam/v1/tokens",
        ),
    ]:
        assert status(call(harness, endpoint, operation.id, headers)) == (401, 16, message)
    assert not harness.service.get(CALLER, operation.id).done


def test_denied_requests_are_audited_and_counted(harness: Harness) -> None:
    harness.client.post(V2_SUBMIT, content=v2_request(), headers={"Authorization": "Api-Key x"})
    call_v2(harness, folderId="b1gforeign")
    audit = harness.identity.list_audit()[::-1]
    events = [(e.actor, e.action, e.target, e.outcome) for e in audit]
    assert events == [
        ("anonymous", "request.denied", f"POST {V2_SUBMIT}", "unauthenticated"),
        (SERVICE_ACCOUNT, "request.denied", f"POST {V2_SUBMIT}", "permission_denied"),
    ]
    assert "has no role ai.speechkit-stt.user on folder b1gforeign" in audit[1].detail
    rendered = harness.metrics.render().decode()
    assert 'asyncstt_errors_total{code="16",where="request"} 1.0' in rendered
    assert 'asyncstt_errors_total{code="7",where="request"} 1.0' in rendered


def test_an_account_without_the_role_is_permission_denied_everywhere(harness: Harness) -> None:
    operation = submitted(harness, ApiVersion.V3)
    for binding in harness.identity.list_role_bindings():
        harness.identity.unbind_role(binding.folder_id, binding.service_account_id, binding.role)
    assert harness.identity.list_role_bindings() == []
    for endpoint in ALL_ENDPOINTS:
        assert status(call(harness, endpoint, operation.id, harness.headers)) == (
            403,
            7,
            f"service account {SERVICE_ACCOUNT} has no role ai.speechkit-stt.user on folder {FOLDER}",
        )


@pytest.mark.parametrize("endpoint", [*OPERATION_ENDPOINTS, "v3"])
def test_a_foreign_x_folder_id_is_permission_denied(harness: Harness, endpoint: str) -> None:
    operation = submitted(harness, ApiVersion.V3)
    headers = {**harness.headers, "x-folder-id": OTHER_FOLDER}
    assert status(call(harness, endpoint, operation.id, headers))[:2] == (403, 7)


def test_a_foreign_config_folder_id_is_permission_denied(harness: Harness) -> None:
    assert status(call_v2(harness, folderId=OTHER_FOLDER))[:2] == (403, 7)


@pytest.fixture
def limited(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness(
        quotas=QuotaSettings(submits_per_hour=2, v2_polls_per_hour=3, v3_polls_per_second=2)
    )


def test_submits_over_the_quota_are_429_with_retry_after(limited: Harness) -> None:
    assert call_v2(limited).status_code == 200
    assert call(limited, "v3", "", limited.headers).status_code == 200
    response = call_v2(limited)
    assert status(response)[:2] == (429, 8)
    assert "2 recognition requests per hour" in status(response)[2]
    # 10:15:07 → the hour ends in 44 min 53 s.
    assert response.headers["retry-after"] == str(44 * 60 + 53)
    assert call(limited, "v2", "", limited.other_headers).status_code == 200
    [event] = limited.identity.list_audit()
    assert (event.actor, event.outcome) == (SERVICE_ACCOUNT, "resource_exhausted")


def test_polls_spend_the_quota_of_their_api_version(limited: Harness) -> None:
    v2 = submitted(limited, ApiVersion.V2)
    v3 = submitted(limited, ApiVersion.V3)
    for endpoint in ("get", "cancel-post"):
        assert call(limited, endpoint, v3.id, limited.headers).status_code == 200
    response = call(limited, "getRecognition", v3.id, limited.headers)
    assert (response.status_code, response.headers["retry-after"]) == (429, "1")
    for _ in range(3):
        assert call(limited, "get", v2.id, limited.headers).status_code == 200
    assert call(limited, "get", v2.id, limited.headers).status_code == 429
    limited.clock.advance(1)
    assert call(limited, "deleteRecognition", v3.id, limited.headers).status_code == 200


def test_the_poll_quota_follows_the_operation_not_its_id(limited: Harness) -> None:
    v3 = submitted(limited, ApiVersion.V3)
    # Id prefixes are cosmetic: a v3 operation whose id looks like a v2 one still spends v3 polls.
    lookalike = limited.store.create(replace(v3, id="e03" + v3.id[3:]))
    for _ in range(2):
        assert call(limited, "get", lookalike.id, limited.headers).status_code == 200
    assert status(call(limited, "get", lookalike.id, limited.headers))[:2] == (429, 8)
    v2 = submitted(limited, ApiVersion.V2)
    for _ in range(3):
        assert call(limited, "get", v2.id, limited.headers).json()["id"] == v2.id
    assert status(call(limited, "get", v2.id, limited.headers))[:2] == (429, 8)


def test_ids_that_name_none_of_the_callers_operations_spend_v2_polls(limited: Harness) -> None:
    own = submitted(limited, ApiVersion.V3)
    limited.store.create(replace(own, id="f8dforeign0000000000", folder_id="b1gthird"))
    for guessed in ("f8dguessed0000000000", "f8dforeign0000000000", "e03guessed0000000000"):
        assert status(call(limited, "cancel-post", guessed, limited.headers)) == (
            404,
            5,
            f"operation {guessed} not found",
        )
    assert status(call(limited, "get", "e03guessed0000000000", limited.headers))[:2] == (429, 8)
    # The v3 polls are untouched; on the v3 routes an unknown id spends a v3 poll.
    assert call(limited, "get", own.id, limited.headers).json()["id"] == own.id
    missing = call(limited, "getRecognition", "f8dguessed0000000000", limited.headers)
    assert status(missing)[:2] == (404, 5)
    assert status(call(limited, "get", own.id, limited.headers))[:2] == (429, 8)


def test_refused_requests_spend_no_quota(limited: Harness) -> None:
    for _ in range(3):
        assert call_v2(limited, folderId=OTHER_FOLDER).status_code == 403
        # Valid JSON, but a language no installed model serves: refused by the service, after the role check.
        invalid = limited.client.post(
            V2_SUBMIT, content=v2_request({"languageCode": "xx-XX"}), headers=limited.headers
        )
        assert status(invalid)[:2] == (400, 3)
    assert call_v2(limited).status_code == 200
    assert call_v2(limited).status_code == 200
    assert call_v2(limited).status_code == 429


def test_anonymous_callers_have_no_quota(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(auth_required=False, quotas=QuotaSettings(submits_per_hour=1))
    ids: set[str] = set()
    for _ in range(3):
        response = call(harness, "v2", "", {})
        assert response.status_code == 200
        operation = response.json()
        assert (operation["done"], operation["createdBy"]) == (False, "anonymous")
        stored = harness.store.get(operation["id"])
        assert stored is not None
        assert (stored.folder_id, stored.created_by) == ("default", "anonymous")
        ids.add(operation["id"])
    assert len(ids) == 3, "each submit queued an operation of its own"


# The token endpoint.


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def signed_in(harness: Harness, private_key: rsa.RSAPrivateKey) -> Harness:
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = AuthorizedKeyRecord("ajekey01", SERVICE_ACCOUNT, public_pem.decode(), START)
    harness.identity.add_authorized_key(record)
    return harness


def make_jwt(private_key: rsa.RSAPrivateKey, aud: str = OWN_AUDIENCE, kid: str = "ajekey01") -> str:
    claims = {"iss": SERVICE_ACCOUNT, "aud": aud, "iat": START, "exp": START + timedelta(hours=1)}
    return jwt.encode(claims, private_key, algorithm="PS256", headers={"typ": "JWT", "kid": kid})


@pytest.mark.parametrize("aud", [OWN_AUDIENCE, "https://iam.api.cloud.yandex.net/iam/v1/tokens"])
def test_a_jwt_buys_an_iam_token_that_works_for_submit_and_poll(
    signed_in: Harness, private_key: rsa.RSAPrivateKey, aud: str
) -> None:
    response = signed_in.client.post(TOKENS, json={"jwt": make_jwt(private_key, aud)})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"iamToken", "expiresAt"}
    assert body["expiresAt"] == "2025-03-02T22:15:07Z"
    headers = {"Authorization": f"Bearer {body['iamToken']}"}
    submit = signed_in.client.post(
        V2_SUBMIT, content=v2_request({"languageCode": "en-US"}), headers=headers
    )
    assert submit.status_code == 200
    poll = signed_in.client.get(f"/operations/{submit.json()['id']}", headers=headers)
    assert (poll.status_code, poll.json()["createdBy"]) == (200, SERVICE_ACCOUNT)


def test_the_token_endpoint_refuses_bad_jwts(
    signed_in: Harness, private_key: rsa.RSAPrivateKey
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token, message in [
        (make_jwt(private_key, aud="https://example.com/iam/v1/tokens"), "aud is wrong"),
        (make_jwt(other), "does not verify with key ajekey01"),
        (make_jwt(private_key, kid="ajenokey"), "unknown or revoked"),
    ]:
        code, grpc, text = status(signed_in.client.post(TOKENS, json={"jwt": token}))
        assert (code, grpc) == (401, 16)
        assert message in text
    assert [e.outcome for e in signed_in.identity.list_audit()] == ["unauthenticated"] * 3
    signed_in.clock.advance(3600 + 31)
    response = signed_in.client.post(TOKENS, json={"jwt": make_jwt(private_key)})
    assert status(response) == (401, 16, "the JWT has expired; sign a new one")


@pytest.mark.parametrize(
    "body", [b"not json", b"{}", b'{"yandexPassportOauthToken": "y0_x"}', b'{"jwt": 5}']
)
def test_the_token_endpoint_needs_a_jwt(harness: Harness, body: bytes) -> None:
    assert status(harness.client.post(TOKENS, content=body))[:2] == (400, 3)


def test_an_idempotency_key_returns_the_same_operation(harness: Harness) -> None:
    headers = {**harness.headers, "Idempotency-Key": "call-0001"}
    body = v2_request({"languageCode": "en-US"})
    first = harness.client.post(V2_SUBMIT, content=body, headers=headers)
    second = harness.client.post(V2_SUBMIT, content=body, headers=headers)
    assert first.json()["id"] == second.json()["id"]
    assert first.status_code == 200
    other = harness.client.post(
        V2_SUBMIT,
        content=v2_request({"languageCode": "en-US", "model": "deferred-general"}),
        headers=headers,
    )
    assert status(other)[:2] == (400, 3)
    assert "Idempotency-Key" in other.json()["message"]
    fresh = harness.client.post(V2_SUBMIT, content=body, headers=harness.headers)
    assert fresh.json()["id"] != first.json()["id"]
