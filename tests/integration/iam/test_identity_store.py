"""The IdentityStore contract, run against every implementation: in memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from asyncstt.errors import AlreadyExists, NotFound
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.iam.records import (
    ROLE_ADMIN,
    ROLE_STT_USER,
    ApiKeyRecord,
    AuditEvent,
    AuthorizedKeyRecord,
    Folder,
    RoleBinding,
    ServiceAccount,
    StorageCredentialRecord,
)
from asyncstt.iam.sql import SqlIdentityStore
from asyncstt.iam.store import IdentityStore
from asyncstt.store.sql import SqlStore
from tests.factories import at
from tests.support.postgres import STORE_URL_FIXTURES

pytestmark = pytest.mark.integration

MOSCOW = timezone(timedelta(hours=3))
KEY_CREATED_AT = at(10)


@pytest.fixture(params=["memory", *STORE_URL_FIXTURES])
def identity(request: pytest.FixtureRequest) -> Iterator[IdentityStore]:
    if request.param == "memory":
        yield InMemoryIdentityStore()
        return
    store = SqlStore(request.getfixturevalue(STORE_URL_FIXTURES[request.param]))
    yield SqlIdentityStore(store)
    store.close()


def _two_folders(identity: IdentityStore) -> None:
    identity.add_folder(Folder("f1", "alpha", at(0)))
    identity.add_folder(Folder("f2", "beta", at(1)))
    identity.add_service_account(ServiceAccount("sa1", "f1", "robot", at(2)))
    identity.add_service_account(ServiceAccount("sa2", "f2", "robot", at(3)))


def _api_key(
    key_id: str,
    account: str = "sa1",
    folder: str = "f1",
    *,
    created_at: datetime = KEY_CREATED_AT,
    expires_at: datetime | None = None,
    description: str = "",
) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=key_id,
        folder_id=folder,
        service_account_id=account,
        secret_hash=f"hash-of-{key_id}",
        created_at=created_at,
        expires_at=expires_at,
        description=description,
    )


# Folders


def test_folders_are_found_by_id_and_exact_name(identity: IdentityStore) -> None:
    folder = Folder("f1", "Alpha", at(0))
    identity.add_folder(folder)
    assert identity.get_folder("f1") == folder
    assert identity.find_folder_by_name("Alpha") == folder
    assert identity.get_folder("missing") is None
    assert identity.find_folder_by_name("alpha") is None
    assert identity.find_folder_by_name("Alph") is None


def test_folders_are_listed_by_creation_then_id(identity: IdentityStore) -> None:
    assert identity.list_folders() == []
    late = Folder("a", "late", at(5))
    tie_b = Folder("c", "tie b", at(1))
    tie_a = Folder("b", "tie a", at(1))
    for folder in (late, tie_b, tie_a):
        identity.add_folder(folder)
    assert identity.list_folders() == [tie_a, tie_b, late]


def test_a_taken_folder_id_or_name_is_refused(identity: IdentityStore) -> None:
    identity.add_folder(Folder("f1", "alpha", at(0)))
    with pytest.raises(AlreadyExists, match="f1"):
        identity.add_folder(Folder("f1", "other", at(1)))
    with pytest.raises(AlreadyExists, match="alpha"):
        identity.add_folder(Folder("f2", "alpha", at(1)))
    assert identity.list_folders() == [Folder("f1", "alpha", at(0))]


# Service accounts


def test_an_account_needs_an_existing_folder(identity: IdentityStore) -> None:
    with pytest.raises(NotFound, match="missing"):
        identity.add_service_account(ServiceAccount("sa1", "missing", "robot", at(0)))
    assert identity.get_service_account("sa1") is None


def test_accounts_are_found_and_listed_per_folder(identity: IdentityStore) -> None:
    _two_folders(identity)
    third = ServiceAccount("sa0", "f1", "helper", at(2))
    identity.add_service_account(third)
    first = ServiceAccount("sa1", "f1", "robot", at(2))
    second = ServiceAccount("sa2", "f2", "robot", at(3))
    assert identity.get_service_account("sa1") == first
    assert identity.get_service_account("missing") is None
    assert identity.list_service_accounts() == [third, first, second]
    assert identity.list_service_accounts("f1") == [third, first]
    assert identity.list_service_accounts("f2") == [second]
    assert identity.list_service_accounts("missing") == []


def test_a_taken_account_id_or_name_in_one_folder_is_refused(identity: IdentityStore) -> None:
    _two_folders(identity)
    with pytest.raises(AlreadyExists, match="sa1"):
        identity.add_service_account(ServiceAccount("sa1", "f2", "other", at(4)))
    with pytest.raises(AlreadyExists, match="robot"):
        identity.add_service_account(ServiceAccount("sa3", "f1", "robot", at(4)))
    assert [a.id for a in identity.list_service_accounts()] == ["sa1", "sa2"]


# Roles


def test_binding_a_held_role_again_changes_nothing(identity: IdentityStore) -> None:
    _two_folders(identity)
    binding = RoleBinding("f1", "sa1", ROLE_STT_USER, at(5))
    identity.bind_role(binding)
    identity.bind_role(RoleBinding("f1", "sa1", ROLE_STT_USER, at(9)))
    assert identity.list_role_bindings() == [binding]
    assert identity.roles_of("sa1", "f1") == frozenset({ROLE_STT_USER})


def test_roles_are_held_per_folder(identity: IdentityStore) -> None:
    _two_folders(identity)
    own = RoleBinding("f1", "sa1", ROLE_STT_USER, at(5))
    admin = RoleBinding("f1", "sa1", ROLE_ADMIN, at(6))
    other = RoleBinding("f2", "sa1", ROLE_STT_USER, at(4))
    for binding in (own, admin, other):
        identity.bind_role(binding)
    assert identity.roles_of("sa1", "f1") == frozenset({ROLE_STT_USER, ROLE_ADMIN})
    assert identity.roles_of("sa1", "f2") == frozenset({ROLE_STT_USER})
    assert identity.roles_of("sa2", "f2") == frozenset()
    assert identity.roles_of("missing", "f1") == frozenset()
    assert identity.list_role_bindings() == [other, own, admin]
    assert identity.list_role_bindings("f1") == [own, admin]
    assert identity.list_role_bindings("missing") == []


def test_unbinding_takes_one_role_back(identity: IdentityStore) -> None:
    _two_folders(identity)
    identity.bind_role(RoleBinding("f1", "sa1", ROLE_STT_USER, at(5)))
    identity.bind_role(RoleBinding("f1", "sa1", ROLE_ADMIN, at(5)))
    assert identity.unbind_role("f1", "sa1", ROLE_ADMIN) is True
    assert identity.unbind_role("f1", "sa1", ROLE_ADMIN) is False
    assert identity.unbind_role("f2", "sa1", ROLE_STT_USER) is False
    assert identity.roles_of("sa1", "f1") == frozenset({ROLE_STT_USER})


def test_a_role_needs_an_existing_folder_and_account(identity: IdentityStore) -> None:
    _two_folders(identity)
    with pytest.raises(NotFound, match="missing"):
        identity.bind_role(RoleBinding("missing", "sa1", ROLE_STT_USER, at(5)))
    with pytest.raises(NotFound, match="missing"):
        identity.bind_role(RoleBinding("f1", "missing", ROLE_STT_USER, at(5)))
    assert identity.list_role_bindings() == []


# API keys


def test_an_api_key_keeps_every_field_in_utc(identity: IdentityStore) -> None:
    _two_folders(identity)
    record = _api_key(
        "key1",
        created_at=datetime(2026, 3, 1, 15, 0, tzinfo=MOSCOW),
        expires_at=datetime(2026, 4, 1, 15, 0, 0, 123456, tzinfo=MOSCOW),
        description="CI pipeline — ключ",
    )
    identity.add_api_key(record)
    found = identity.find_api_key("key1")
    assert found == record
    assert found is not None
    assert found.created_at.tzinfo == UTC
    assert found.expires_at == datetime(2026, 4, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert found.expires_at is not None
    assert found.expires_at.tzinfo == UTC
    assert (found.revoked, found.revoked_at) == (False, None)
    assert identity.find_api_key("missing") is None


def test_revoking_an_api_key_records_when(identity: IdentityStore) -> None:
    _two_folders(identity)
    identity.add_api_key(_api_key("key1", expires_at=at(3600)))
    assert identity.revoke_api_key("key1", at(60)) is True
    revoked = identity.find_api_key("key1")
    assert revoked is not None
    assert (revoked.revoked, revoked.revoked_at, revoked.expires_at) == (True, at(60), at(3600))
    assert revoked.revoked_at is not None
    assert revoked.revoked_at.tzinfo == UTC
    assert not revoked.usable_at(at(61))
    assert identity.revoke_api_key("key1", at(120)) is False
    again = identity.find_api_key("key1")
    assert again is not None
    assert again.revoked_at == at(60)
    assert identity.revoke_api_key("missing", at(60)) is False


def test_an_api_key_expiry_can_be_changed_and_cleared(identity: IdentityStore) -> None:
    _two_folders(identity)
    identity.add_api_key(_api_key("key1"))
    assert identity.set_api_key_expiry("key1", datetime(2026, 3, 2, 15, 0, tzinfo=MOSCOW)) is True
    changed = identity.find_api_key("key1")
    assert changed is not None
    assert changed.expires_at == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert changed.expires_at.tzinfo == UTC
    assert changed == _api_key("key1", expires_at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    assert identity.set_api_key_expiry("key1", None) is True
    assert identity.find_api_key("key1") == _api_key("key1")
    assert identity.set_api_key_expiry("missing", at(60)) is False


def test_api_keys_are_listed_per_account(identity: IdentityStore) -> None:
    _two_folders(identity)
    late = _api_key("key0", created_at=at(20))
    tie_b = _api_key("key2", created_at=at(10))
    tie_a = _api_key("key1", created_at=at(10))
    other = _api_key("key3", account="sa2", folder="f2", created_at=at(15))
    for record in (late, tie_b, tie_a, other):
        identity.add_api_key(record)
    assert identity.list_api_keys() == [tie_a, tie_b, other, late]
    assert identity.list_api_keys("sa1") == [tie_a, tie_b, late]
    assert identity.list_api_keys("missing") == []


def test_an_api_key_needs_a_free_id_and_an_existing_account(identity: IdentityStore) -> None:
    _two_folders(identity)
    identity.add_api_key(_api_key("key1"))
    with pytest.raises(AlreadyExists, match="key1"):
        identity.add_api_key(_api_key("key1", account="sa2", folder="f2"))
    with pytest.raises(NotFound, match="missing"):
        identity.add_api_key(_api_key("key2", account="missing"))
    with pytest.raises(NotFound, match="missing"):
        identity.add_api_key(_api_key("key2", folder="missing"))
    assert identity.list_api_keys() == [_api_key("key1")]


# Authorized keys


def test_authorized_keys_round_trip_and_revoke_once(identity: IdentityStore) -> None:
    _two_folders(identity)
    first = AuthorizedKeyRecord("ajk2", "sa1", "-----BEGIN PUBLIC KEY-----\nAAA\n", at(5))
    second = AuthorizedKeyRecord("ajk1", "sa2", "-----BEGIN PUBLIC KEY-----\nBBB\n", at(6))
    identity.add_authorized_key(first)
    identity.add_authorized_key(second)
    assert identity.find_authorized_key("ajk2") == first
    assert identity.find_authorized_key("missing") is None
    assert identity.list_authorized_keys() == [first, second]
    assert identity.list_authorized_keys("sa2") == [second]
    assert identity.revoke_authorized_key("ajk2", at(7)) is True
    assert identity.revoke_authorized_key("ajk2", at(8)) is False
    assert identity.revoke_authorized_key("missing", at(8)) is False
    revoked = identity.find_authorized_key("ajk2")
    assert revoked is not None
    assert revoked.revoked_at == at(7)


def test_an_authorized_key_needs_a_free_id_and_an_existing_account(identity: IdentityStore) -> None:
    _two_folders(identity)
    identity.add_authorized_key(AuthorizedKeyRecord("ajk1", "sa1", "pem", at(5)))
    with pytest.raises(AlreadyExists, match="ajk1"):
        identity.add_authorized_key(AuthorizedKeyRecord("ajk1", "sa2", "pem", at(6)))
    with pytest.raises(NotFound, match="missing"):
        identity.add_authorized_key(AuthorizedKeyRecord("ajk2", "missing", "pem", at(6)))
    assert [k.id for k in identity.list_authorized_keys()] == ["ajk1"]


# Storage credentials


def test_storage_credentials_are_set_replaced_and_deleted(identity: IdentityStore) -> None:
    _two_folders(identity)
    assert identity.get_storage_credentials("f1") is None
    first = StorageCredentialRecord(
        "f1", "http://s3.local", "ru-central1", "AK1", bytes(range(256)), at(5)
    )
    identity.set_storage_credentials(first)
    assert identity.get_storage_credentials("f1") == first
    second = StorageCredentialRecord(
        "f1", "https://other", "us-east-1", "AK2", b"\x00sealed\xff", at(9)
    )
    identity.set_storage_credentials(second)
    assert identity.get_storage_credentials("f1") == second
    assert identity.get_storage_credentials("f2") is None
    assert identity.delete_storage_credentials("f1") is True
    assert identity.delete_storage_credentials("f1") is False
    assert identity.get_storage_credentials("f1") is None


def test_storage_credentials_need_an_existing_folder(identity: IdentityStore) -> None:
    with pytest.raises(NotFound, match="missing"):
        identity.set_storage_credentials(
            StorageCredentialRecord("missing", "http://s3", "r", "AK", b"x", at(0))
        )


# Audit log


def test_the_audit_log_lists_newest_first(identity: IdentityStore) -> None:
    assert identity.list_audit() == []
    for second, action in ((5, "api_key.create"), (1, "folder.create"), (9, "request.denied")):
        identity.append_audit(
            AuditEvent(at(second), "cli", action, f"target-{second}", "ok", detail="d")
        )
    events = identity.list_audit()
    assert [e.action for e in events] == ["request.denied", "api_key.create", "folder.create"]
    assert events[0] == AuditEvent(
        at(9), "cli", "request.denied", "target-9", "ok", "d", events[0].id
    )
    ids = {e.id for e in events}
    assert len(ids) == 3
    assert None not in ids
    assert [e.action for e in identity.list_audit(since=at(5))] == [
        "request.denied",
        "api_key.create",
    ]
    assert [e.action for e in identity.list_audit(limit=2)] == ["request.denied", "api_key.create"]
    assert [e.action for e in identity.list_audit(since=at(2), limit=1)] == ["request.denied"]
    assert identity.list_audit(since=at(10)) == []


def test_audit_events_at_the_same_time_keep_their_order(identity: IdentityStore) -> None:
    for action in ("first", "second", "third"):
        identity.append_audit(AuditEvent(at(1), "anonymous", action, "t", "denied"))
    assert [e.action for e in identity.list_audit()] == ["third", "second", "first"]


def test_pruning_deletes_the_oldest_events_before_the_cutoff_up_to_the_limit(
    identity: IdentityStore,
) -> None:
    for second in (4, 1, 3, 2, 5, 6):
        identity.append_audit(AuditEvent(at(second), "cli", f"at-{second}", "t", "ok"))
    assert identity.prune_audit_before(at(5), limit=3) == 3
    assert [e.action for e in identity.list_audit()] == ["at-6", "at-5", "at-4"]
    assert identity.prune_audit_before(at(5), limit=3) == 1
    assert identity.prune_audit_before(at(5), limit=3) == 0
    assert [e.action for e in identity.list_audit()] == ["at-6", "at-5"]
    identity.append_audit(AuditEvent(at(7), "cli", "at-7", "t", "ok"))
    assert len({e.id for e in identity.list_audit()}) == 3
