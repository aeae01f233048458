from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from asyncstt.auth import (
    ANONYMOUS,
    API_KEY_PREFIX,
    Authenticator,
    Principal,
    check_folder,
    create_api_key,
)
from asyncstt.errors import PermissionDenied, Unauthenticated
from asyncstt.store.memory import InMemoryStore

NOW = datetime(2025, 3, 2, 10, 15, 7, tzinfo=UTC)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def key(store: InMemoryStore) -> str:
    return create_api_key(store, "b1gfolder", "ajeservice", NOW)[1]


def test_created_key_is_stored_only_as_a_hash(store: InMemoryStore) -> None:
    record, key = create_api_key(store, "b1gfolder", "ajeservice", NOW)
    assert key.startswith(f"{API_KEY_PREFIX}{record.id}.")
    secret = key.split(".", 1)[1]
    assert len(secret) >= 43
    assert store.find_api_key(record.id) == record
    assert secret not in record.secret_hash
    assert record.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (record.folder_id, record.service_account_id, record.created_at) == (
        "b1gfolder",
        "ajeservice",
        NOW,
    )


def test_keys_are_unique(store: InMemoryStore) -> None:
    keys = {create_api_key(store, "f", "sa", NOW)[1] for _ in range(20)}
    assert len(keys) == 20


@pytest.mark.parametrize("scheme", ["Api-Key", "Api-key", "api-key", "API-KEY", "Bearer", "bearer"])
def test_key_is_accepted_under_both_schemes_in_any_case(
    store: InMemoryStore, key: str, scheme: str
) -> None:
    principal = Authenticator(store).authenticate(f"{scheme} {key}")
    assert principal == Principal(folder_id="b1gfolder", service_account_id="ajeservice")


def test_surrounding_whitespace_is_tolerated(store: InMemoryStore, key: str) -> None:
    assert Authenticator(store).authenticate(f"  Api-Key   {key} ").folder_id == "b1gfolder"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header_is_unauthenticated(store: InMemoryStore, header: str | None) -> None:
    with pytest.raises(Unauthenticated, match=r"^missing Authorization header$"):
        Authenticator(store).authenticate(header)


def test_unknown_scheme_names_the_accepted_ones(store: InMemoryStore, key: str) -> None:
    with pytest.raises(Unauthenticated, match="'Api-Key <key>' or 'Bearer <key>'"):
        Authenticator(store).authenticate(f"Basic {key}")


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


def test_wrong_or_malformed_keys_are_invalid(store: InMemoryStore, key: str) -> None:
    authenticator = Authenticator(store)
    for candidate in _tampered(key):
        with pytest.raises(Unauthenticated, match=r"^the API key is invalid$"):
            authenticator.authenticate(f"Api-Key {candidate}")


def test_revoked_key_is_invalid(store: InMemoryStore) -> None:
    record, key = create_api_key(store, "b1gfolder", "ajeservice", NOW)
    store.add_api_key(replace(record, revoked=True))
    with pytest.raises(Unauthenticated, match=r"^the API key is invalid$"):
        Authenticator(store).authenticate(f"Api-Key {key}")


def test_without_required_auth_a_request_without_header_is_anonymous(store: InMemoryStore) -> None:
    assert Authenticator(store, required=False).authenticate(None) == Principal(
        "default", "anonymous"
    )


def test_without_required_auth_a_bad_header_is_still_refused(store: InMemoryStore) -> None:
    with pytest.raises(Unauthenticated):
        Authenticator(store, required=False).authenticate("Api-Key nonsense")


@pytest.mark.parametrize("folder_id", ["", "b1gfolder"])
def test_own_or_no_folder_is_allowed(folder_id: str) -> None:
    check_folder(Principal("b1gfolder", "ajeservice"), folder_id)


def test_another_folder_is_permission_denied() -> None:
    with pytest.raises(PermissionDenied, match="has no access to folder b1gother"):
        check_folder(Principal("b1gfolder", "ajeservice"), "b1gother")


def test_anonymous_caller_folder_is_ignored() -> None:
    check_folder(ANONYMOUS, "b1gother")
