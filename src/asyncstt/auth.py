"""Who is calling: API keys today, and the seam (`Principal`, `Authenticator`) for full IAM later.

An API key is shown to its owner once, as `AQVN<key id>.<secret>`. The store keeps the key id and a SHA-256
hash of the secret; the secret is 256 random bits, so a plain hash is as strong as a slow one would be.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from asyncstt.errors import PermissionDenied, Unauthenticated
from asyncstt.ids import new_instance_id
from asyncstt.store.base import ApiKeyRecord

API_KEY_PREFIX = "AQVN"
_SCHEMES = frozenset({"api-key", "bearer"})
_INVALID_KEY = "the API key is invalid"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a service account and the folder it works in."""

    folder_id: str
    service_account_id: str


#: The caller when authentication is switched off and no credentials were sent.
ANONYMOUS = Principal(folder_id="default", service_account_id="anonymous")


class ApiKeyStore(Protocol):
    """The part of the store that keeps API keys."""

    def add_api_key(self, record: ApiKeyRecord) -> None: ...

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None: ...


def create_api_key(
    store: ApiKeyStore, folder_id: str, service_account_id: str, now: datetime
) -> tuple[ApiKeyRecord, str]:
    """Create and store a key for a service account; returns the record and the key, shown only once."""
    key_id = new_instance_id("aje")
    secret = secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        id=key_id,
        folder_id=folder_id,
        service_account_id=service_account_id,
        secret_hash=_hash(secret),
        created_at=now,
    )
    store.add_api_key(record)
    return record, f"{API_KEY_PREFIX}{key_id}.{secret}"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Authenticator:
    """Turns an `Authorization` header into a Principal.

    Accepts `Api-Key <key>` and `Bearer <key>` (scheme names compare case-insensitively, so `Api-key` works).
    IAM tokens will be accepted under `Bearer` once IAM exists. With `required=False` a request without the
    header is served as `ANONYMOUS`; a header that is present is still checked.
    """

    def __init__(self, store: ApiKeyStore, *, required: bool = True) -> None:
        self._store = store
        self._required = required

    def authenticate(self, authorization: str | None) -> Principal:
        if authorization is None or not authorization.strip():
            if self._required:
                raise Unauthenticated("missing Authorization header")
            return ANONYMOUS
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() not in _SCHEMES:
            raise Unauthenticated(
                "the Authorization header must be 'Api-Key <key>' or 'Bearer <key>'"
            )
        record = self._verify(credentials.strip())
        if record is None:
            raise Unauthenticated(_INVALID_KEY)
        return Principal(folder_id=record.folder_id, service_account_id=record.service_account_id)

    def _verify(self, key: str) -> ApiKeyRecord | None:
        key_id, dot, secret = key.removeprefix(API_KEY_PREFIX).partition(".")
        if not key.startswith(API_KEY_PREFIX) or not dot or not key_id or not secret:
            return None
        record = self._store.find_api_key(key_id)
        if record is None or record.revoked:
            return None
        return record if hmac.compare_digest(record.secret_hash, _hash(secret)) else None


def check_folder(principal: Principal, folder_id: str) -> None:
    """Allow a request that names `folder_id` (empty: none named) on behalf of `principal`.

    A service account works in its own folder, so naming none or its own is fine, as the public service
    documents. Naming another folder is refused with PermissionDenied: the account holds no role there (folders
    and roles arrive with IAM), and silently working in its own folder instead would surprise the caller.
    With authentication off the folder is ignored, so examples written for the public service run unchanged.
    """
    if not folder_id or principal == ANONYMOUS or folder_id == principal.folder_id:
        return
    raise PermissionDenied(
        f"service account {principal.service_account_id} has no access to folder {folder_id}; "
        "leave config.folderId out to work in the account's own folder"
    )
