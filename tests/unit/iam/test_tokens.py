from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yandexcloud._auth_fabric import ServiceAccountAuth

from asyncstt.clock import utcnow
from asyncstt.errors import Unauthenticated
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.iam.records import AuthorizedKeyRecord, Folder, ServiceAccount
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.tokens import TOKEN_PREFIX, TokenService, token_url
from asyncstt.settings import IamSettings
from tests.factories import ManualClock

NOW = datetime(2025, 3, 2, 10, 15, 7, tzinfo=UTC)
ACCOUNT = "ajeaccount0000000001"
KEY_ID = "ajekey00000000000001"
URL = "http://asyncstt.internal:8000/iam/v1/tokens"
PUBLIC_URL = "https://iam.api.cloud.yandex.net/iam/v1/tokens"


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def identity(private_key: rsa.RSAPrivateKey) -> InMemoryIdentityStore:
    store = InMemoryIdentityStore()
    store.add_folder(Folder("b1gfolder", "team", NOW))
    store.add_service_account(ServiceAccount(ACCOUNT, "b1gfolder", "robot", NOW))
    store.add_authorized_key(AuthorizedKeyRecord(KEY_ID, ACCOUNT, _public_pem(private_key), NOW))
    return store


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def tokens(identity: InMemoryIdentityStore, clock: ManualClock) -> TokenService:
    return TokenService(identity, ServerKey(b"0123456789abcdef0123"), IamSettings(), clock)


def forget_account(
    monkeypatch: pytest.MonkeyPatch, identity: InMemoryIdentityStore, account_id: str
) -> None:
    """Answer as if the account were deleted with its keys and tokens still out: the port cannot delete one."""
    present = identity.get_service_account
    monkeypatch.setattr(
        identity,
        "get_service_account",
        lambda wanted: None if wanted == account_id else present(wanted),
    )


def make_jwt(
    key: rsa.RSAPrivateKey,
    *,
    kid: str = KEY_ID,
    iss: str = ACCOUNT,
    aud: str = URL,
    iat: datetime = NOW,
    lifetime: float = 3600,
    algorithm: str = "PS256",
) -> str:
    claims = {"iss": iss, "aud": aud, "iat": iat, "exp": iat + timedelta(seconds=lifetime)}
    signing_key: Any = _private_pem(key) if algorithm.startswith(("PS", "RS")) else "secret" * 6
    return jwt.encode(claims, signing_key, algorithm=algorithm, headers={"typ": "JWT", "kid": kid})


def test_a_jwt_built_by_the_sdk_is_exchanged_for_a_token(
    identity: InMemoryIdentityStore, private_key: rsa.RSAPrivateKey
) -> None:
    sa_key = {"id": KEY_ID, "service_account_id": ACCOUNT, "private_key": _private_pem(private_key)}
    sdk_jwt = ServiceAccountAuth(sa_key, "api.cloud.yandex.net").get_token_request().jwt
    tokens = TokenService(identity, ServerKey(b"0123456789abcdef0123"), IamSettings())
    issued = tokens.exchange_jwt(sdk_jwt, URL)
    assert issued.iam_token.startswith(TOKEN_PREFIX)
    assert abs((issued.expires_at - utcnow()).total_seconds() - 12 * 3600) < 60
    assert tokens.verify(issued.iam_token).id == ACCOUNT


def test_own_token_url_is_an_accepted_audience(
    tokens: TokenService, private_key: rsa.RSAPrivateKey
) -> None:
    issued = tokens.exchange_jwt(make_jwt(private_key, aud=URL), URL)
    assert issued.expires_at == NOW + timedelta(hours=12)
    assert tokens.verify(issued.iam_token).folder_id == "b1gfolder"


def test_token_url_is_built_from_the_base_url() -> None:
    assert token_url("http://asyncstt.internal:8000/") == URL


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"aud": "https://example.com/iam/v1/tokens"}, "aud is wrong"),
        ({"iat": NOW - timedelta(hours=2)}, "expired"),
        ({"lifetime": 3601}, "more than 3600 s"),
        ({"iat": NOW + timedelta(minutes=5)}, "in the future"),
        ({"kid": "ajeunknown0000000000"}, "unknown or revoked"),
        ({"iss": "ajesomeoneelse000000"}, f"iss must be {ACCOUNT}"),
    ],
)
def test_bad_jwts_are_refused_with_the_reason(
    tokens: TokenService,
    private_key: rsa.RSAPrivateKey,
    changes: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(Unauthenticated, match=message):
        tokens.exchange_jwt(make_jwt(private_key, **changes), URL)


def test_a_jwt_signed_by_another_key_is_refused(
    tokens: TokenService, other_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(Unauthenticated, match=f"does not verify with key {KEY_ID}"):
        tokens.exchange_jwt(make_jwt(other_key), URL)


def test_a_revoked_key_is_refused(
    tokens: TokenService, identity: InMemoryIdentityStore, private_key: rsa.RSAPrivateKey
) -> None:
    identity.revoke_authorized_key(KEY_ID, NOW)
    with pytest.raises(Unauthenticated, match="unknown or revoked"):
        tokens.exchange_jwt(make_jwt(private_key), URL)


def _unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': KEY_ID})}.{part(claims)}."


@pytest.mark.parametrize("algorithm", ["none", "HS256", "RS256"])
def test_other_algorithms_are_refused(
    tokens: TokenService, private_key: rsa.RSAPrivateKey, algorithm: str
) -> None:
    if algorithm == "none":
        claims = {"iss": ACCOUNT, "aud": URL, "iat": NOW.timestamp(), "exp": NOW.timestamp() + 60}
        token = _unsigned(claims)
    else:
        token = make_jwt(private_key, algorithm=algorithm)
    with pytest.raises(Unauthenticated, match=f"must be signed with PS256, not {algorithm}"):
        tokens.exchange_jwt(token, URL)


def test_a_public_key_used_as_an_hmac_secret_is_refused(
    tokens: TokenService, private_key: rsa.RSAPrivateKey
) -> None:
    # The classic confusion: a PS256-labelled JWT whose "signature" is an HMAC keyed with the public PEM.
    header_and_claims = make_jwt(private_key).rsplit(".", 1)[0]
    mac = hmac.new(_public_pem(private_key).encode(), header_and_claims.encode(), hashlib.sha256)
    signature = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()
    with pytest.raises(Unauthenticated, match="does not verify"):
        tokens.exchange_jwt(f"{header_and_claims}.{signature}", URL)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "e30.e30."])
def test_malformed_jwts_are_refused(tokens: TokenService, garbage: str) -> None:
    with pytest.raises(Unauthenticated):
        tokens.exchange_jwt(garbage, URL)


def test_a_jwt_of_a_deleted_account_is_refused(
    tokens: TokenService,
    identity: InMemoryIdentityStore,
    private_key: rsa.RSAPrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forget_account(monkeypatch, identity, ACCOUNT)
    with pytest.raises(Unauthenticated, match="no longer exists"):
        tokens.exchange_jwt(make_jwt(private_key), URL)


def test_tokens_expire_after_their_lifetime(
    tokens: TokenService, clock: ManualClock, private_key: rsa.RSAPrivateKey
) -> None:
    issued = tokens.exchange_jwt(make_jwt(private_key), URL)
    clock.advance(12 * 3600 - 1)
    tokens.verify(issued.iam_token)
    clock.advance(1)
    with pytest.raises(
        Unauthenticated, match="has expired; get a new one from POST /iam/v1/tokens"
    ):
        tokens.verify(issued.iam_token)


def test_tampered_or_foreign_tokens_are_invalid(
    tokens: TokenService, identity: InMemoryIdentityStore, clock: ManualClock
) -> None:
    token = tokens.issue(ACCOUNT).iam_token
    prefix, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "ajesomeoneelse000000"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    other_server = TokenService(identity, ServerKey(b"another server key!!"), IamSettings(), clock)
    for candidate in [
        f"{prefix}.{forged}.{signature}",
        f"{prefix}.{payload}.{signature[:-2]}",
        f"{prefix}.{payload}",
        other_server.issue(ACCOUNT).iam_token,
    ]:
        with pytest.raises(Unauthenticated, match=r"^the IAM token is invalid$"):
            tokens.verify(candidate)


def test_a_token_of_a_deleted_account_is_refused(
    tokens: TokenService, identity: InMemoryIdentityStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tokens.issue(ACCOUNT).iam_token
    forget_account(monkeypatch, identity, ACCOUNT)
    with pytest.raises(Unauthenticated, match="service account no longer exists"):
        tokens.verify(token)


@pytest.mark.parametrize("claim", ["iat", "exp"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_jwt_whose_times_are_not_finite_numbers_is_refused(
    tokens: TokenService, private_key: rsa.RSAPrivateKey, claim: str, value: float
) -> None:
    # NaN compares false with every bound, so it used to pass the lifetime and expiry checks.
    claims: dict[str, Any] = {
        "iss": ACCOUNT,
        "aud": URL,
        "iat": NOW.timestamp(),
        "exp": NOW.timestamp(),
    }
    claims[claim] = value
    signed = jwt.encode(
        claims, _private_pem(private_key), algorithm="PS256", headers={"kid": KEY_ID}
    )
    with pytest.raises(Unauthenticated, match=f"{claim} must be a finite number of seconds"):
        tokens.exchange_jwt(signed, URL)
