"""IAM tokens end to end, on the SQLite deployment with two tenant folders: the official SDK's JWT, signed with an
authorized key the admin command made, is exchanged for a token that works like an API key; forged, expired and
revoked ones are refused."""

from __future__ import annotations

import json
import stat
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yandexcloud._auth_fabric import ServiceAccountAuth

from tests.acceptance.iam_admin import SECRETS
from tests.acceptance.iam_requests import (
    assert_status,
    bearer,
    exchange,
    operation_id,
    sign_jwt,
    submit_v2,
    v2_text,
    wait_done,
)
from tests.acceptance.iam_tenants import Tenants
from tests.support.wer import JFK_REFERENCE, word_errors

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


@pytest.mark.timeout(300)
def test_sdk_jwt_exchanged_for_an_iam_token(
    tenants: Tenants, reference_audio: Path, tmp_path: Path
) -> None:
    http, alice = tenants.http, tenants.alice
    key_path = tmp_path / "key.json"
    key_file = tenants.operator.authorized_key(alice.account_id, key_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_file["service_account_id"] == alice.account_id
    assert key_file["key_algorithm"] == "RSA_2048"
    assert "PRIVATE KEY" in key_file["private_key"]
    assert "PUBLIC KEY" in key_file["public_key"]

    # The JWT exactly as the official SDK builds it from the key file (aud: the public service's URL).
    sdk_key = json.loads(key_path.read_text())
    sdk_jwt = ServiceAccountAuth(sdk_key, endpoint="api.cloud.yandex.net").get_token_request().jwt
    assert jwt.get_unverified_header(sdk_jwt)["kid"] == key_file["id"]
    before = datetime.now(UTC)
    answer = exchange(http, sdk_jwt)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"iamToken", "expiresAt"}, body
    SECRETS.append(body["iamToken"])
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert abs(expires - (before + timedelta(hours=12))) < timedelta(minutes=2), body

    token = bearer(body["iamToken"])
    submitted = operation_id(submit_v2(http, token, reference_audio))
    done = wait_done(http, submitted, token)
    assert word_errors(v2_text(done), JFK_REFERENCE) <= 1, done
    # The operation is folder A's: A's API key sees it, B's does not.
    assert http.get(f"/operations/{submitted}", headers=alice.header).status_code == 200
    assert_status(http.get(f"/operations/{submitted}", headers=tenants.bob.header), 404, 5)

    # The server's own token URL is an accepted audience too.
    own = sign_jwt(
        key_file["private_key"],
        key_file["id"],
        alice.account_id,
        f"{tenants.server.url}/iam/v1/tokens",
    )
    assert exchange(http, own).status_code == 200

    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    impostor_pem = impostor.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    refused = {
        "signed by another key with the same kid": (
            sign_jwt(impostor_pem, key_file["id"], alice.account_id),
            "signature",
        ),
        "wrong aud": (
            sign_jwt(
                key_file["private_key"],
                key_file["id"],
                alice.account_id,
                aud="https://iam.example.org/iam/v1/tokens",
            ),
            "aud",
        ),
        "expired": (
            sign_jwt(
                key_file["private_key"], key_file["id"], alice.account_id, iat=time.time() - 7200
            ),
            "expired",
        ),
        "iss of another account": (
            sign_jwt(key_file["private_key"], key_file["id"], tenants.bob.account_id),
            "iss",
        ),
        "unknown kid": (
            sign_jwt(key_file["private_key"], "ajeunknownkey0000000", alice.account_id),
            "unknown",
        ),
        "lifetime over an hour": (
            sign_jwt(key_file["private_key"], key_file["id"], alice.account_id, lifetime=7200),
            "exp",
        ),
        "RS256 rather than PS256": (
            sign_jwt(key_file["private_key"], key_file["id"], alice.account_id, algorithm="RS256"),
            "PS256",
        ),
    }
    for label, (token_text, fragment) in refused.items():
        answer = exchange(http, token_text)
        assert answer.status_code == 401, (label, answer.text)
        assert_status(answer, 401, 16, fragment)

    # A revoked authorized key signs nothing that is accepted any more.
    revoked = tenants.operator.run("keys", "authorized", "revoke", key_file["id"])
    assert key_file["id"] in revoked, revoked
    assert_status(exchange(http, sdk_jwt), 401, 16, "revoked")

    # A tampered IAM token: one character of its signed payload changed.
    payload, _, signature = body["iamToken"].removeprefix("t1.").partition(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for tampered in (f"t1.{flipped}.{signature}", body["iamToken"][:-3] + "xyz"):
        answer = http.get(f"/operations/{submitted}", headers=bearer(tampered))
        assert_status(answer, 401, 16, "token")
        assert_status(submit_v2(http, bearer(tampered), reference_audio), 401, 16, "token")
