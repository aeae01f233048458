"""What the identity store keeps. Secrets are never kept in the clear: API keys as hashes, storage secrets
encrypted with the server key, authorized keys as public keys only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: Recognise and poll in a folder.
ROLE_STT_USER = "ai.speechkit-stt.user"
#: Manage a folder; also grants recognition, as primitive roles do in the public service.
ROLE_ADMIN = "admin"
#: Primitive role that also grants recognition.
ROLE_EDITOR = "editor"
ROLES = (ROLE_STT_USER, ROLE_EDITOR, ROLE_ADMIN)
#: Roles that allow recognition and polling.
RECOGNITION_ROLES = frozenset(ROLES)


@dataclass(frozen=True)
class Folder:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ServiceAccount:
    id: str
    folder_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class RoleBinding:
    """`role` held by a service account on a folder (its own or another one)."""

    folder_id: str
    service_account_id: str
    role: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key as stored: only a hash of the secret is kept."""

    id: str
    folder_id: str
    service_account_id: str
    secret_hash: str
    created_at: datetime
    revoked: bool = False
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    description: str = ""

    def usable_at(self, now: datetime) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class AuthorizedKeyRecord:
    """The public half of a service account's RSA key pair, which signs its JWTs."""

    id: str
    service_account_id: str
    public_key_pem: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class StorageCredentialRecord:
    """A folder's object-storage credentials; `encrypted_secret` is the secret key sealed with the server key."""

    folder_id: str
    endpoint_url: str
    region: str
    access_key_id: str
    encrypted_secret: bytes
    updated_at: datetime


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log: who did what to what, and how it ended. Never a secret."""

    at: datetime
    actor: str
    action: str
    target: str
    outcome: str
    detail: str = ""
    id: int | None = None
