"""The identity store port. `SqlIdentityStore` (SQLite or PostgreSQL) and `InMemoryIdentityStore` implement it.

Every method is one transaction. Methods that add a row raise `AlreadyExists` when its key is taken and
`NotFound` when a folder or account it refers to is missing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from asyncstt.iam.records import (
    ApiKeyRecord,
    AuditEvent,
    AuthorizedKeyRecord,
    Folder,
    RoleBinding,
    ServiceAccount,
    StorageCredentialRecord,
)


class IdentityStore(Protocol):
    def add_folder(self, folder: Folder) -> None: ...

    def get_folder(self, folder_id: str) -> Folder | None: ...

    def find_folder_by_name(self, name: str) -> Folder | None: ...

    def list_folders(self) -> list[Folder]: ...

    def add_service_account(self, account: ServiceAccount) -> None: ...

    def get_service_account(self, account_id: str) -> ServiceAccount | None: ...

    def list_service_accounts(self, folder_id: str | None = None) -> list[ServiceAccount]: ...

    def bind_role(self, binding: RoleBinding) -> None:
        """Grant a role; granting one that is held already changes nothing."""

    def unbind_role(self, folder_id: str, account_id: str, role: str) -> bool:
        """Take a role back; False when it was not held."""

    def roles_of(self, account_id: str, folder_id: str) -> frozenset[str]:
        """The roles `account_id` holds on `folder_id`."""

    def list_role_bindings(self, folder_id: str | None = None) -> list[RoleBinding]: ...

    def add_api_key(self, record: ApiKeyRecord) -> None: ...

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None: ...

    def list_api_keys(self, account_id: str | None = None) -> list[ApiKeyRecord]: ...

    def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        """Revoke a key; False when there is no such key or it was revoked already."""

    def set_api_key_expiry(self, key_id: str, expires_at: datetime | None) -> bool:
        """Change when a key expires (key rotation with a grace period); False when there is no such key."""

    def add_authorized_key(self, record: AuthorizedKeyRecord) -> None: ...

    def find_authorized_key(self, key_id: str) -> AuthorizedKeyRecord | None: ...

    def list_authorized_keys(self, account_id: str | None = None) -> list[AuthorizedKeyRecord]: ...

    def revoke_authorized_key(self, key_id: str, now: datetime) -> bool: ...

    def set_storage_credentials(self, record: StorageCredentialRecord) -> None:
        """Store or replace a folder's storage credentials."""

    def get_storage_credentials(self, folder_id: str) -> StorageCredentialRecord | None: ...

    def delete_storage_credentials(self, folder_id: str) -> bool: ...

    def append_audit(self, event: AuditEvent) -> None: ...

    def prune_audit_before(self, cutoff: datetime, limit: int) -> int:
        """Delete at most `limit` audit events from before `cutoff`, the oldest first; how many went."""

    def list_audit(self, since: datetime | None = None, limit: int = 100) -> list[AuditEvent]:
        """Newest first."""
