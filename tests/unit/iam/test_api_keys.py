"""Making an API key: what is kept of it, and the folder and account it brings along."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from asyncstt.errors import InvalidArgument
from asyncstt.iam.api_keys import API_KEY_PREFIX, create_api_key
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.iam.records import ROLE_STT_USER

NOW = datetime(2025, 3, 2, 10, 15, 7, tzinfo=UTC)
FOLDER = "b1gfolder"
OTHER = "b1gother"
ACCOUNT = "ajeservice"


@pytest.fixture
def identity() -> InMemoryIdentityStore:
    return InMemoryIdentityStore()


def test_created_key_is_stored_only_as_a_hash(identity: InMemoryIdentityStore) -> None:
    record, key = create_api_key(identity, FOLDER, ACCOUNT, NOW, description="ci")
    assert key.startswith(f"{API_KEY_PREFIX}{record.id}.")
    secret = key.split(".", 1)[1]
    assert len(secret) >= 43
    assert identity.find_api_key(record.id) == record
    assert secret not in record.secret_hash
    assert record.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (record.folder_id, record.service_account_id, record.created_at) == (
        FOLDER,
        ACCOUNT,
        NOW,
    )
    assert record.description == "ci"


def test_creating_a_key_creates_a_missing_account_with_the_recognition_role(
    identity: InMemoryIdentityStore,
) -> None:
    create_api_key(identity, FOLDER, ACCOUNT, NOW)
    account = identity.get_service_account(ACCOUNT)
    assert account is not None
    assert account.folder_id == FOLDER
    assert identity.get_folder(FOLDER) is not None
    assert identity.roles_of(ACCOUNT, FOLDER) == {ROLE_STT_USER}


def test_a_key_for_an_account_of_another_folder_is_refused(identity: InMemoryIdentityStore) -> None:
    create_api_key(identity, FOLDER, ACCOUNT, NOW)
    with pytest.raises(InvalidArgument, match=f"belongs to folder {FOLDER}"):
        create_api_key(identity, OTHER, ACCOUNT, NOW)


def test_keys_are_unique(identity: InMemoryIdentityStore) -> None:
    keys = {create_api_key(identity, "f", "sa", NOW)[1] for _ in range(20)}
    assert len(keys) == 20
