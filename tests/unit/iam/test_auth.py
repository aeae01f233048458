from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from asyncstt.errors import (
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from asyncstt.iam.api_keys import API_KEY_PREFIX, create_api_key
from asyncstt.iam.audit import Auditor
from asyncstt.iam.auth import ANONYMOUS, Authenticator, Principal
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.iam.records import ROLE_ADMIN, ROLE_STT_USER, Folder, RoleBinding, ServiceAccount
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.tokens import TokenService
from asyncstt.settings import IamSettings
from tests.factories import ManualClock

NOW = datetime(2025, 3, 2, 10, 15, 7, tzinfo=UTC)
FOLDER = "b1gfolder"
OTHER = "b1gother"
ACCOUNT = "ajeservice"


@pytest.fixture
def identity() -> InMemoryIdentityStore:
    return InMemoryIdentityStore()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def authenticator(
    identity: InMemoryIdentityStore, clock: ManualClock, *, required: bool = True
) -> Authenticator:
    return Authenticator(
        identity,
        TokenService(identity, ServerKey(b"0123456789abcdef0123"), IamSettings(), clock),
        IamSettings(),
        Auditor(identity, clock),
        required=required,
        clock=clock,
    )


@pytest.fixture
def auth(identity: InMemoryIdentityStore, clock: ManualClock) -> Authenticator:
    return authenticator(identity, clock)


@pytest.fixture
def key(identity: InMemoryIdentityStore) -> str:
    return create_api_key(identity, FOLDER, ACCOUNT, NOW)[1]


@pytest.mark.parametrize("scheme", ["Api-Key", "Api-key", "api-key", "API-KEY", "Bearer", "bearer"])
def test_key_is_accepted_under_both_schemes_in_any_case(
    auth: Authenticator, key: str, scheme: str
) -> None:
    assert auth.authenticate(f"{scheme} {key}") == Principal(FOLDER, ACCOUNT)


def test_surrounding_whitespace_is_tolerated(auth: Authenticator, key: str) -> None:
    assert auth.authenticate(f"  Api-Key   {key} ").folder_id == FOLDER


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header_is_unauthenticated(auth: Authenticator, header: str | None) -> None:
    with pytest.raises(Unauthenticated, match=r"^missing Authorization header; send 'Api-Key"):
        auth.authenticate(header)


def test_unknown_scheme_names_the_accepted_ones(auth: Authenticator, key: str) -> None:
    with pytest.raises(Unauthenticated, match="'Api-Key <API key>' or 'Bearer <IAM token>'"):
        auth.authenticate(f"Basic {key}")


def _tampered(key: str) -> list[str]:
    key_id, secret = key.removeprefix(API_KEY_PREFIX).split(".", 1)
    flipped = ("A" if secret[0] != "A" else "B") + secret[1:]
    return [
        f"{API_KEY_PREFIX}{key_id}.{flipped}",
        f"{API_KEY_PREFIX}{key_id}.",
        f"{API_KEY_PREFIX}{key_id}",
        f"{API_KEY_PREFIX}aje00000000000000000.{secret}",
        f"{key_id}.{secret}",
        "",
        API_KEY_PREFIX,
    ]


INVALID_KEY = r"^the API key is invalid, revoked or expired$"


def test_wrong_or_malformed_keys_are_invalid(auth: Authenticator, key: str) -> None:
    for candidate in _tampered(key):
        with pytest.raises(Unauthenticated, match=INVALID_KEY):
            auth.authenticate(f"Api-Key {candidate}")


def test_revoked_key_is_invalid(
    auth: Authenticator, identity: InMemoryIdentityStore, key: str
) -> None:
    identity.revoke_api_key(key.removeprefix(API_KEY_PREFIX).split(".")[0], NOW)
    with pytest.raises(Unauthenticated, match=INVALID_KEY):
        auth.authenticate(f"Api-Key {key}")


def test_expired_key_is_invalid(
    auth: Authenticator, identity: InMemoryIdentityStore, clock: ManualClock
) -> None:
    _, key = create_api_key(identity, FOLDER, ACCOUNT, NOW, expires_at=NOW + timedelta(hours=1))
    assert auth.authenticate(f"Api-Key {key}") == Principal(FOLDER, ACCOUNT)
    clock.advance(3600)
    with pytest.raises(Unauthenticated, match=INVALID_KEY):
        auth.authenticate(f"Api-Key {key}")


def test_an_iam_token_authenticates_as_its_account(
    auth: Authenticator, identity: InMemoryIdentityStore, key: str, clock: ManualClock
) -> None:
    token = auth.tokens.issue(ACCOUNT).iam_token
    assert auth.authenticate(f"Bearer {token}") == Principal(FOLDER, ACCOUNT)
    clock.advance(12 * 3600)
    with pytest.raises(Unauthenticated, match="has expired; get a new one"):
        auth.authenticate(f"Bearer {token}")


@pytest.mark.parametrize("token", ["t1.garbage", "t1.", "ya29.something", "eyJhbGciOi.x.y"])
def test_bad_bearer_tokens_are_invalid(auth: Authenticator, token: str) -> None:
    with pytest.raises(Unauthenticated, match=r"^the IAM token is invalid$"):
        auth.authenticate(f"Bearer {token}")


def test_without_required_auth_a_request_without_header_is_anonymous(
    identity: InMemoryIdentityStore, clock: ManualClock
) -> None:
    assert authenticator(identity, clock, required=False).authenticate(None) == ANONYMOUS


def test_without_required_auth_a_bad_header_is_still_refused(
    identity: InMemoryIdentityStore, clock: ManualClock
) -> None:
    with pytest.raises(Unauthenticated):
        authenticator(identity, clock, required=False).authenticate("Api-Key nonsense")


@pytest.mark.parametrize("folder_id", ["", FOLDER])
def test_own_or_no_folder_is_allowed_with_the_role(
    auth: Authenticator, key: str, folder_id: str
) -> None:
    assert auth.authorize(Principal(FOLDER, ACCOUNT), folder_id) == Principal(FOLDER, ACCOUNT)


def test_own_folder_without_a_role_is_permission_denied(
    auth: Authenticator, identity: InMemoryIdentityStore
) -> None:
    identity.add_folder(Folder(FOLDER, "team", NOW))
    identity.add_service_account(ServiceAccount(ACCOUNT, FOLDER, "robot", NOW))
    with pytest.raises(
        PermissionDenied,
        match=f"^service account {ACCOUNT} has no role ai.speechkit-stt.user on folder {FOLDER}$",
    ):
        auth.authorize(Principal(FOLDER, ACCOUNT))


def test_another_folder_without_a_role_is_permission_denied(auth: Authenticator, key: str) -> None:
    with pytest.raises(
        PermissionDenied, match=f"has no role ai.speechkit-stt.user on folder {OTHER}"
    ):
        auth.authorize(Principal(FOLDER, ACCOUNT), OTHER)


def test_a_role_on_another_folder_makes_the_account_act_there(
    auth: Authenticator, identity: InMemoryIdentityStore, key: str
) -> None:
    identity.add_folder(Folder(OTHER, "other", NOW))
    identity.bind_role(RoleBinding(OTHER, ACCOUNT, ROLE_ADMIN, NOW))
    assert auth.authorize(Principal(FOLDER, ACCOUNT), OTHER) == Principal(OTHER, ACCOUNT)


def test_anonymous_caller_folder_is_ignored(auth: Authenticator) -> None:
    assert auth.authorize(ANONYMOUS, OTHER) == ANONYMOUS


def test_scopes_are_the_own_folder_then_the_others_with_a_role(
    auth: Authenticator, identity: InMemoryIdentityStore, key: str
) -> None:
    identity.add_folder(Folder(OTHER, "other", NOW))
    identity.add_folder(Folder("b1gthird", "third", NOW))
    identity.bind_role(RoleBinding(OTHER, ACCOUNT, ROLE_STT_USER, NOW))
    identity.bind_role(RoleBinding("b1gthird", ACCOUNT, "viewer", NOW))
    caller = Principal(FOLDER, ACCOUNT)
    assert list(auth.scopes(caller)) == [caller, Principal(OTHER, ACCOUNT)]
    assert list(auth.scopes(caller, OTHER)) == [Principal(OTHER, ACCOUNT)]


def test_scopes_without_any_role_are_permission_denied(
    auth: Authenticator, identity: InMemoryIdentityStore
) -> None:
    identity.add_folder(Folder(FOLDER, "team", NOW))
    identity.add_service_account(ServiceAccount(ACCOUNT, FOLDER, "robot", NOW))
    with pytest.raises(PermissionDenied):
        next(auth.scopes(Principal(FOLDER, ACCOUNT)))


def test_refusals_are_audited_without_the_credential(
    auth: Authenticator, identity: InMemoryIdentityStore, key: str
) -> None:
    target = "POST /speech/stt/v2/longRunningRecognize"
    auth.record_denial(None, target, Unauthenticated("the API key is invalid, revoked or expired"))
    auth.record_denial(Principal(FOLDER, ACCOUNT), target, PermissionDenied("no role"))
    auth.record_denial(Principal(FOLDER, ACCOUNT), target, ResourceExhausted("quota", 3))
    auth.record_denial(Principal(FOLDER, ACCOUNT), target, NotFound("not a refusal"))
    audit = identity.list_audit()[::-1]
    assert [(e.actor, e.action, e.target, e.outcome, e.detail) for e in audit] == [
        (
            "anonymous",
            "request.denied",
            target,
            "unauthenticated",
            "the API key is invalid, revoked or expired",
        ),
        (ACCOUNT, "request.denied", target, "permission_denied", "no role"),
        (ACCOUNT, "request.denied", target, "resource_exhausted", "quota"),
    ]
    assert all(e.at == NOW for e in audit)
    assert not any(key in repr(e) for e in audit)
