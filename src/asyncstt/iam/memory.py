"""InMemoryIdentityStore: the identity store in process memory, for unit tests and demos.

Same semantics as `SqlIdentityStore`, including the UTC normalisation of datetimes that the database does.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import datetime

from asyncstt.clock import utc
from asyncstt.errors import AlreadyExists, NotFound
from asyncstt.iam.records import (
    ApiKeyRecord,
    AuditEvent,
    AuthorizedKeyRecord,
    Folder,
    RoleBinding,
    ServiceAccount,
    StorageCredentialRecord,
)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


class InMemoryIdentityStore:
    """`IdentityStore` in dicts behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folders: dict[str, Folder] = {}
        self._accounts: dict[str, ServiceAccount] = {}
        self._bindings: dict[tuple[str, str, str], RoleBinding] = {}
        self._api_keys: dict[str, ApiKeyRecord] = {}
        self._authorized_keys: dict[str, AuthorizedKeyRecord] = {}
        self._storage: dict[str, StorageCredentialRecord] = {}
        self._audit: list[AuditEvent] = []
        self._audit_ids = itertools.count(1)

    # Folders and service accounts

    def add_folder(self, folder: Folder) -> None:
        with self._lock:
            if folder.id in self._folders:
                raise AlreadyExists(f"folder {folder.id} exists already")
            if any(held.name == folder.name for held in self._folders.values()):
                raise AlreadyExists(
                    f"a folder named {folder.name!r} exists already: choose another name"
                )
            self._folders[folder.id] = replace(folder, created_at=utc(folder.created_at))

    def get_folder(self, folder_id: str) -> Folder | None:
        with self._lock:
            return self._folders.get(folder_id)

    def find_folder_by_name(self, name: str) -> Folder | None:
        with self._lock:
            return next((f for f in self._folders.values() if f.name == name), None)

    def list_folders(self) -> list[Folder]:
        with self._lock:
            return sorted(self._folders.values(), key=lambda f: (f.created_at, f.id))

    def add_service_account(self, account: ServiceAccount) -> None:
        with self._lock:
            self._require_folder(account.folder_id)
            if account.id in self._accounts:
                raise AlreadyExists(f"service account {account.id} exists already")
            if any(
                held.folder_id == account.folder_id and held.name == account.name
                for held in self._accounts.values()
            ):
                raise AlreadyExists(
                    f"folder {account.folder_id} has a service account named {account.name!r} "
                    "already: choose another name"
                )
            self._accounts[account.id] = replace(account, created_at=utc(account.created_at))

    def get_service_account(self, account_id: str) -> ServiceAccount | None:
        with self._lock:
            return self._accounts.get(account_id)

    def list_service_accounts(self, folder_id: str | None = None) -> list[ServiceAccount]:
        with self._lock:
            return sorted(
                (a for a in self._accounts.values() if folder_id in (None, a.folder_id)),
                key=lambda a: (a.created_at, a.id),
            )

    # Roles

    def bind_role(self, binding: RoleBinding) -> None:
        with self._lock:
            self._require_folder(binding.folder_id)
            self._require_account(binding.service_account_id)
            key = (binding.folder_id, binding.service_account_id, binding.role)
            if key not in self._bindings:
                self._bindings[key] = replace(binding, created_at=utc(binding.created_at))

    def unbind_role(self, folder_id: str, account_id: str, role: str) -> bool:
        with self._lock:
            return self._bindings.pop((folder_id, account_id, role), None) is not None

    def roles_of(self, account_id: str, folder_id: str) -> frozenset[str]:
        with self._lock:
            return frozenset(
                role
                for (folder, account, role) in self._bindings
                if folder == folder_id and account == account_id
            )

    def list_role_bindings(self, folder_id: str | None = None) -> list[RoleBinding]:
        with self._lock:
            return sorted(
                (b for b in self._bindings.values() if folder_id in (None, b.folder_id)),
                key=lambda b: (b.created_at, b.folder_id, b.service_account_id, b.role),
            )

    # API keys

    def add_api_key(self, record: ApiKeyRecord) -> None:
        with self._lock:
            self._require_folder(record.folder_id)
            self._require_account(record.service_account_id)
            if record.id in self._api_keys:
                raise AlreadyExists(f"API key {record.id} exists already")
            self._api_keys[record.id] = replace(
                record,
                created_at=utc(record.created_at),
                expires_at=_utc_or_none(record.expires_at),
                revoked_at=_utc_or_none(record.revoked_at),
            )

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._lock:
            return self._api_keys.get(key_id)

    def list_api_keys(self, account_id: str | None = None) -> list[ApiKeyRecord]:
        with self._lock:
            return sorted(
                (k for k in self._api_keys.values() if account_id in (None, k.service_account_id)),
                key=lambda k: (k.created_at, k.id),
            )

    def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        with self._lock:
            record = self._api_keys.get(key_id)
            if record is None or record.revoked:
                return False
            self._api_keys[key_id] = replace(record, revoked=True, revoked_at=utc(now))
            return True

    def set_api_key_expiry(self, key_id: str, expires_at: datetime | None) -> bool:
        with self._lock:
            record = self._api_keys.get(key_id)
            if record is None:
                return False
            self._api_keys[key_id] = replace(record, expires_at=_utc_or_none(expires_at))
            return True

    # Authorized keys

    def add_authorized_key(self, record: AuthorizedKeyRecord) -> None:
        with self._lock:
            self._require_account(record.service_account_id)
            if record.id in self._authorized_keys:
                raise AlreadyExists(f"authorized key {record.id} exists already")
            self._authorized_keys[record.id] = replace(
                record,
                created_at=utc(record.created_at),
                revoked_at=_utc_or_none(record.revoked_at),
            )

    def find_authorized_key(self, key_id: str) -> AuthorizedKeyRecord | None:
        with self._lock:
            return self._authorized_keys.get(key_id)

    def list_authorized_keys(self, account_id: str | None = None) -> list[AuthorizedKeyRecord]:
        with self._lock:
            return sorted(
                (
                    k
                    for k in self._authorized_keys.values()
                    if account_id in (None, k.service_account_id)
                ),
                key=lambda k: (k.created_at, k.id),
            )

    def revoke_authorized_key(self, key_id: str, now: datetime) -> bool:
        with self._lock:
            record = self._authorized_keys.get(key_id)
            if record is None or record.revoked_at is not None:
                return False
            self._authorized_keys[key_id] = replace(record, revoked_at=utc(now))
            return True

    # Storage credentials

    def set_storage_credentials(self, record: StorageCredentialRecord) -> None:
        with self._lock:
            self._require_folder(record.folder_id)
            self._storage[record.folder_id] = replace(
                record,
                encrypted_secret=bytes(record.encrypted_secret),
                updated_at=utc(record.updated_at),
            )

    def get_storage_credentials(self, folder_id: str) -> StorageCredentialRecord | None:
        with self._lock:
            return self._storage.get(folder_id)

    def delete_storage_credentials(self, folder_id: str) -> bool:
        with self._lock:
            return self._storage.pop(folder_id, None) is not None

    # Audit log

    def append_audit(self, event: AuditEvent) -> None:
        with self._lock:
            self._audit.append(replace(event, at=utc(event.at), id=next(self._audit_ids)))

    def prune_audit_before(self, cutoff: datetime, limit: int) -> int:
        with self._lock:
            old = sorted((e for e in self._audit if e.at < cutoff), key=lambda e: (e.at, e.id or 0))
            gone = {e.id for e in old[: max(limit, 0)]}
            self._audit = [e for e in self._audit if e.id not in gone]
        return len(gone)

    def list_audit(self, since: datetime | None = None, limit: int = 100) -> list[AuditEvent]:
        with self._lock:
            events = [e for e in self._audit if since is None or e.at >= since]
        events.sort(key=lambda e: (e.at, e.id or 0), reverse=True)
        return events[: max(limit, 0)]

    def _require_folder(self, folder_id: str) -> None:
        if folder_id not in self._folders:
            raise NotFound(f"folder {folder_id} not found: create it first")

    def _require_account(self, account_id: str) -> None:
        if account_id not in self._accounts:
            raise NotFound(f"service account {account_id} not found: create it first")
