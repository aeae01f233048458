"""Per-folder storage credentials as the sources read them: looked up in the identity store and opened with the
server key."""

from __future__ import annotations

from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.store import IdentityStore
from asyncstt.sources.s3 import ResolvedStorage


class StoredStorageCredentials:
    """A `StorageCredentialLookup` over the identity store."""

    def __init__(self, identity: IdentityStore, server_key: ServerKey) -> None:
        self._identity = identity
        self._server_key = server_key

    def __call__(self, folder_id: str) -> ResolvedStorage | None:
        record = self._identity.get_storage_credentials(folder_id)
        if record is None:
            return None
        return ResolvedStorage(
            endpoint_url=record.endpoint_url,
            region=record.region,
            access_key_id=record.access_key_id,
            secret_access_key=self._server_key.open(record.encrypted_secret),
            updated_at=record.updated_at,
        )
