"""API keys: how one is made, and how its secret is kept.

An API key is shown to its owner once, as `AQVN<key id>.<secret>`. The store keeps the key id and a SHA-256
hash of the secret; the secret is 256 random bits, so a plain hash is as strong as a slow one would be.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from asyncstt.errors import InvalidArgument
from asyncstt.iam.records import ROLE_STT_USER, ApiKeyRecord, Folder, RoleBinding, ServiceAccount
from asyncstt.iam.store import IdentityStore
from asyncstt.ids import new_instance_id

API_KEY_PREFIX = "AQVN"


def create_api_key(
    identity: IdentityStore,
    folder_id: str,
    service_account_id: str,
    now: datetime,
    expires_at: datetime | None = None,
    description: str = "",
) -> tuple[ApiKeyRecord, str]:
    """Create and store a key for a service account; returns the record and the key, shown only once.

    A folder or account that does not exist yet is created, the account with the recognition role on its
    folder, so that one command gives a working key (`asyncstt keys create`, `asyncstt transcribe`).
    """
    account = identity.get_service_account(service_account_id)
    if account is None:
        if identity.get_folder(folder_id) is None:
            identity.add_folder(Folder(folder_id, folder_id, now))
        identity.add_service_account(
            ServiceAccount(service_account_id, folder_id, service_account_id, now)
        )
        identity.bind_role(RoleBinding(folder_id, service_account_id, ROLE_STT_USER, now))
    elif account.folder_id != folder_id:
        raise InvalidArgument(
            f"service account {service_account_id} belongs to folder {account.folder_id}, not {folder_id}"
        )
    key_id = new_instance_id("aje")
    secret = secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        id=key_id,
        folder_id=folder_id,
        service_account_id=service_account_id,
        secret_hash=hash_secret(secret),
        created_at=now,
        expires_at=expires_at,
        description=description,
    )
    identity.add_api_key(record)
    return record, f"{API_KEY_PREFIX}{key_id}.{secret}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
