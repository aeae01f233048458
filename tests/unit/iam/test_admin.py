from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from asyncstt.errors import AlreadyExists, InvalidArgument, NotFound, Unauthenticated
from asyncstt.iam.admin import IdentityAdmin
from asyncstt.iam.audit import Auditor
from asyncstt.iam.auth import Authenticator
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.iam.records import ROLE_ADMIN, ROLE_STT_USER
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.storage_credentials import StoredStorageCredentials
from asyncstt.iam.tokens import TokenService
from asyncstt.settings import IamSettings
from tests.factories import ManualClock

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # noqa: S105 (a made-up secret)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def identity() -> InMemoryIdentityStore:
    return InMemoryIdentityStore()


@pytest.fixture
def server_key() -> ServerKey:
    return ServerKey(b"a server key of the unit tests")


@pytest.fixture
def admin(
    identity: InMemoryIdentityStore, server_key: ServerKey, clock: ManualClock
) -> IdentityAdmin:
    return IdentityAdmin(identity, server_key, Auditor(identity, clock), clock=clock)


def authenticator(
    identity: InMemoryIdentityStore, server_key: ServerKey, clock: ManualClock
) -> Authenticator:
    return Authenticator(
        identity,
        TokenService(identity, server_key, IamSettings(), clock),
        IamSettings(),
        Auditor(identity, clock),
        clock=clock,
    )


def test_folders_and_accounts_are_named_by_id_or_name(admin: IdentityAdmin) -> None:
    folder = admin.create_folder("team-a")
    assert folder.id.startswith("b1g")
    assert len(folder.id) == 20
    by_name = admin.create_service_account("team-a", "robot")
    by_id = admin.create_service_account(folder.id, "robot-2")
    assert by_name.id.startswith("aje")
    assert by_name.folder_id == folder.id
    assert admin.list_folders() == [folder]
    assert {a.id for a in admin.list_service_accounts("team-a")} == {by_name.id, by_id.id}
    assert admin.account("robot") == by_name
    with pytest.raises(AlreadyExists, match="team-a"):
        admin.create_folder("team-a")
    with pytest.raises(AlreadyExists, match="robot"):
        admin.create_service_account("team-a", "robot")


def test_missing_names_say_what_was_looked_for(admin: IdentityAdmin) -> None:
    with pytest.raises(NotFound, match="folder 'nowhere'"):
        admin.create_service_account("nowhere", "robot")
    with pytest.raises(NotFound, match="service account 'ghost'"):
        admin.create_api_key("ghost")
    with pytest.raises(NotFound, match="API key 'aje0000'"):
        admin.revoke_api_key("aje0000")


def test_an_ambiguous_account_name_asks_for_the_id(admin: IdentityAdmin) -> None:
    admin.create_folder("a")
    admin.create_folder("b")
    admin.create_service_account("a", "robot")
    admin.create_service_account("b", "robot")
    with pytest.raises(InvalidArgument, match="several service accounts"):
        admin.account("robot")


def test_roles_are_checked_bound_and_unbound(admin: IdentityAdmin) -> None:
    admin.create_folder("a")
    account = admin.create_service_account("a", "robot")
    with pytest.raises(InvalidArgument, match=r"ai\.speechkit-stt\.user, editor, admin"):
        admin.bind_role("robot", "a", "owner")
    admin.bind_role("robot", "a", ROLE_ADMIN)
    assert [(b.service_account_id, b.role) for b in admin.list_roles("a")] == [
        (account.id, ROLE_ADMIN)
    ]
    admin.unbind_role(account.id, "a", ROLE_ADMIN)
    assert admin.list_roles() == []
    with pytest.raises(NotFound, match="holds no role admin"):
        admin.unbind_role(account.id, "a", ROLE_ADMIN)


def test_api_keys_authenticate_expire_and_revoke(
    admin: IdentityAdmin, identity: InMemoryIdentityStore, server_key: ServerKey, clock: ManualClock
) -> None:
    folder, account = admin.bootstrap("a", "robot")
    record, key = admin.create_api_key("robot", timedelta(days=30), "ci")
    assert record.expires_at == START + timedelta(days=30)
    assert record.description == "ci"
    gate = authenticator(identity, server_key, clock)
    principal = gate.authenticate(f"Api-Key {key}")
    assert (principal.folder_id, principal.service_account_id) == (folder.id, account.id)
    assert admin.list_api_keys("robot") == [record]
    admin.revoke_api_key(record.id)
    # The API process trusts what it read of the key for the cache time, then sees the revocation.
    clock.advance(IamSettings().cache_seconds)
    with pytest.raises(Unauthenticated):
        gate.authenticate(f"Api-Key {key}")
    with pytest.raises(InvalidArgument, match="revoked already"):
        admin.revoke_api_key(record.id)
    with pytest.raises(InvalidArgument, match="positive"):
        admin.create_api_key("robot", timedelta(0))


def test_rotation_keeps_the_old_key_working_for_the_grace_period(
    admin: IdentityAdmin, identity: InMemoryIdentityStore, server_key: ServerKey, clock: ManualClock
) -> None:
    admin.bootstrap("a", "robot")
    old, old_key = admin.create_api_key("robot", description="prod")
    new, new_key = admin.rotate_api_key(old.id, timedelta(minutes=30))
    assert new.id != old.id
    assert new.description == "prod"
    assert new.expires_at is None
    gate = authenticator(identity, server_key, clock)
    clock.now = START + timedelta(minutes=29)
    gate.authenticate(f"Api-Key {old_key}")
    gate.authenticate(f"Api-Key {new_key}")
    clock.now = START + timedelta(minutes=30)
    with pytest.raises(Unauthenticated):
        gate.authenticate(f"Api-Key {old_key}")
    gate.authenticate(f"Api-Key {new_key}")
    with pytest.raises(InvalidArgument, match="revoked or expired"):
        admin.rotate_api_key(old.id)


def test_rotation_never_extends_an_expiry(
    admin: IdentityAdmin, identity: InMemoryIdentityStore
) -> None:
    admin.bootstrap("a", "robot")
    old, _ = admin.create_api_key("robot", timedelta(minutes=10))
    new, _ = admin.rotate_api_key(old.id, timedelta(hours=1))
    assert identity.find_api_key(old.id).expires_at == START + timedelta(minutes=10)  # type: ignore[union-attr]
    assert new.expires_at == START + timedelta(minutes=10)


def test_authorized_key_file_has_the_yc_layout_and_signs_jwts(
    admin: IdentityAdmin, identity: InMemoryIdentityStore
) -> None:
    _, account = admin.bootstrap("a", "robot")
    record, key_file = admin.create_authorized_key("robot")
    assert set(key_file) == {
        "id",
        "service_account_id",
        "created_at",
        "key_algorithm",
        "public_key",
        "private_key",
    }
    assert key_file["id"] == record.id
    assert key_file["service_account_id"] == account.id
    assert key_file["key_algorithm"] == "RSA_2048"
    assert key_file["created_at"] == "2026-03-01T12:00:00Z"
    assert key_file["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    private = serialization.load_pem_private_key(key_file["private_key"].encode(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.key_size == 2048
    stored = identity.find_authorized_key(record.id)
    assert stored is not None
    assert stored.public_key_pem == key_file["public_key"]
    assert "PRIVATE" not in stored.public_key_pem
    token = jwt.encode({"iss": account.id}, key_file["private_key"], algorithm="PS256")
    assert jwt.decode(token, stored.public_key_pem, algorithms=["PS256"])["iss"] == account.id
    assert admin.list_authorized_keys("robot") == [stored]
    admin.revoke_authorized_key(record.id)
    assert identity.find_authorized_key(record.id).revoked_at == START  # type: ignore[union-attr]
    with pytest.raises(InvalidArgument, match="revoked already"):
        admin.revoke_authorized_key(record.id)


def test_storage_secret_is_sealed_and_opened_by_the_lookup(
    admin: IdentityAdmin, identity: InMemoryIdentityStore, server_key: ServerKey
) -> None:
    folder = admin.create_folder("a")
    record = admin.set_storage_credentials(
        "a", "https://storage.example.net", "AKIDEXAMPLE", SECRET, region="ru-central1"
    )
    assert SECRET.encode() not in record.encrypted_secret
    assert admin.storage_credentials("a") == record
    resolved = StoredStorageCredentials(identity, server_key)(folder.id)
    assert resolved is not None
    assert resolved.secret_access_key == SECRET
    assert (resolved.endpoint_url, resolved.region, resolved.access_key_id) == (
        "https://storage.example.net",
        "ru-central1",
        "AKIDEXAMPLE",
    )
    assert SECRET not in repr(resolved)
    admin.delete_storage_credentials("a")
    assert StoredStorageCredentials(identity, server_key)(folder.id) is None
    with pytest.raises(NotFound, match="no storage credentials"):
        admin.storage_credentials("a")


def test_storage_credentials_are_checked(admin: IdentityAdmin) -> None:
    admin.create_folder("a")
    with pytest.raises(InvalidArgument, match="http"):
        admin.set_storage_credentials("a", "ftp://storage", "AK", SECRET)
    with pytest.raises(InvalidArgument, match="access key id"):
        admin.set_storage_credentials("a", "https://storage", " ", SECRET)


def test_bootstrap_is_idempotent_and_grants_recognition(
    admin: IdentityAdmin, identity: InMemoryIdentityStore
) -> None:
    folder, account = admin.bootstrap("default", "transcribe-cli")
    assert admin.bootstrap("default", "transcribe-cli") == (folder, account)
    assert admin.bootstrap(folder.id, account.id) == (folder, account)
    assert identity.roles_of(account.id, folder.id) == {ROLE_STT_USER}
    admin.create_folder("other")
    with pytest.raises(InvalidArgument, match="belongs to folder"):
        admin.bootstrap("other", account.id)


def test_every_change_is_audited_without_secrets(
    admin: IdentityAdmin, identity: InMemoryIdentityStore
) -> None:
    admin.bootstrap("a", "robot")
    record, key = admin.create_api_key("robot")
    admin.rotate_api_key(record.id)
    auth_key, key_file = admin.create_authorized_key("robot")
    admin.revoke_authorized_key(auth_key.id)
    admin.set_storage_credentials("a", "https://storage.example.net", "AKIDEXAMPLE", SECRET)
    admin.delete_storage_credentials("a")
    events = admin.audit_log()
    actions = [e.action for e in reversed(events)]
    assert actions == [
        "folder.create",
        "service_account.create",
        "role.bind",
        "api_key.create",
        "api_key.create",
        "api_key.rotate",
        "authorized_key.create",
        "authorized_key.revoke",
        "storage_credentials.set",
        "storage_credentials.delete",
    ]
    assert {e.actor for e in events} == {"cli"}
    assert {e.outcome for e in events} == {"ok"}
    text = " ".join(f"{e.target} {e.detail}" for e in events)
    secret_part = key.partition(".")[2]
    assert secret_part not in text
    assert SECRET not in text
    assert key_file["private_key"] not in text
    assert len(admin.audit_log(limit=2)) == 2
