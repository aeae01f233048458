"""A dict-backed identity store with just what authentication, tokens and quotas use."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from asyncstt.iam.records import (
    ApiKeyRecord,
    AuditEvent,
    AuthorizedKeyRecord,
    Folder,
    RoleBinding,
    ServiceAccount,
)


class FakeIdentityStore:
    def __init__(self) -> None:
        self.folders: dict[str, Folder] = {}
        self.accounts: dict[str, ServiceAccount] = {}
        self.bindings: set[RoleBinding] = set()
        self.api_keys: dict[str, ApiKeyRecord] = {}
        self.authorized_keys: dict[str, AuthorizedKeyRecord] = {}
        self.audit: list[AuditEvent] = []
        self.counters: dict[tuple[str, str, datetime], int] = {}

    def add_folder(self, folder: Folder) -> None:
        self.folders[folder.id] = folder

    def get_folder(self, folder_id: str) -> Folder | None:
        return self.folders.get(folder_id)

    def add_service_account(self, account: ServiceAccount) -> None:
        self.accounts[account.id] = account

    def get_service_account(self, account_id: str) -> ServiceAccount | None:
        return self.accounts.get(account_id)

    def bind_role(self, binding: RoleBinding) -> None:
        self.bindings.add(binding)

    def roles_of(self, account_id: str, folder_id: str) -> frozenset[str]:
        return frozenset(
            b.role
            for b in self.bindings
            if b.service_account_id == account_id and b.folder_id == folder_id
        )

    def list_role_bindings(self, folder_id: str | None = None) -> list[RoleBinding]:
        return [b for b in self.bindings if folder_id is None or b.folder_id == folder_id]

    def add_api_key(self, record: ApiKeyRecord) -> None:
        self.api_keys[record.id] = record

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        return self.api_keys.get(key_id)

    def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        record = self.api_keys[key_id]
        self.api_keys[key_id] = replace(record, revoked=True, revoked_at=now)
        return True

    def add_authorized_key(self, record: AuthorizedKeyRecord) -> None:
        self.authorized_keys[record.id] = record

    def find_authorized_key(self, key_id: str) -> AuthorizedKeyRecord | None:
        return self.authorized_keys.get(key_id)

    def revoke_authorized_key(self, key_id: str, now: datetime) -> bool:
        self.authorized_keys[key_id] = replace(self.authorized_keys[key_id], revoked_at=now)
        return True

    def append_audit(self, event: AuditEvent) -> None:
        self.audit.append(event)

    def count_request(self, subject: str, quota: str, window_start: datetime, now: datetime) -> int:
        key = (subject, quota, window_start)
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]
