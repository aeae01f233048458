"""Each folder's storage links read with that folder's own keys, against a real S3 server (rclone) that
accepts two key pairs and checks SigV4 signatures for real."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from asyncstt.errors import InvalidArgument, PermissionDenied
from asyncstt.iam.admin import IdentityAdmin
from asyncstt.iam.audit import Auditor
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.sql import SqlIdentityStore
from asyncstt.iam.storage_credentials import StoredStorageCredentials
from asyncstt.settings import Settings
from asyncstt.sources.registry import SourceRegistry
from asyncstt.store.sql import SqlStore
from tests.support.s3server import S3Server, new_key_pair, rclone_s3

pytestmark = pytest.mark.integration

KEY = "calls/one.wav"


@pytest.fixture(scope="module")
def two_key_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[S3Server]]:
    """One S3 server that accepts two key pairs: a client for each."""
    base = tmp_path_factory.mktemp("s3-two-keys")
    keys = [new_key_pair("AKFOLDER"), new_key_pair("AKFOLDER")]
    with rclone_s3(base, keys) as endpoint_url:
        yield [S3Server(endpoint_url, key, secret, base / "data") for key, secret in keys]


@pytest.fixture
def identity(tmp_path: Path) -> Iterator[SqlIdentityStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        yield SqlIdentityStore(store)
    finally:
        store.close()


def test_each_folder_reads_its_links_with_its_own_keys(
    two_key_server: list[S3Server], identity: SqlIdentityStore, tmp_path: Path
) -> None:
    server_key = ServerKey(b"the server key of this test")
    admin = IdentityAdmin(identity, server_key, Auditor(identity))
    first, second = two_key_server
    bucket_a, bucket_b = "team-a-" + uuid.uuid4().hex[:8], "team-b-" + uuid.uuid4().hex[:8]
    first.put(bucket_a, KEY, b"audio of team a")
    second.put(bucket_b, KEY, b"audio of team b!")
    folders = {name: admin.create_folder(name).id for name in ("a", "b", "wrong", "plain")}
    endpoint = first.endpoint_url
    admin.set_storage_credentials("a", endpoint, first.access_key_id, first.secret_access_key)
    admin.set_storage_credentials("b", endpoint, second.access_key_id, second.secret_access_key)
    admin.set_storage_credentials("wrong", endpoint, first.access_key_id, second.secret_access_key)
    # The server-wide storage is not configured: whatever a folder reads, it reads with its own keys.
    registry = SourceRegistry(Settings(), StoredStorageCredentials(identity, server_key))

    link_a = f"s3://{bucket_a}/{KEY}"
    assert registry.validate(link_a, folders["a"]) == link_a
    assert registry.fetch(link_a, tmp_path / "a.wav", 1000, folders["a"]) == 15
    assert (tmp_path / "a.wav").read_bytes() == b"audio of team a"
    path_style = f"{endpoint}/{bucket_b}/{KEY}"
    assert registry.fetch(path_style, tmp_path / "b.wav", 1000, folders["b"]) == 16
    assert (tmp_path / "b.wav").read_bytes() == b"audio of team b!"

    with pytest.raises(PermissionDenied, match=f"storage refused access to {link_a}"):
        registry.fetch(link_a, tmp_path / "denied.wav", 1000, folders["wrong"])
    assert not (tmp_path / "denied.wav").exists()
    with pytest.raises(InvalidArgument, match="no object storage is configured"):
        registry.fetch(link_a, tmp_path / "plain.wav", 1000, folders["plain"])

    # Fixed credentials take effect at once: the folder's client is rebuilt.
    admin.set_storage_credentials("wrong", endpoint, first.access_key_id, first.secret_access_key)
    assert registry.fetch(link_a, tmp_path / "fixed.wav", 1000, folders["wrong"]) == 15
    admin.delete_storage_credentials("wrong")
    with pytest.raises(InvalidArgument, match="no object storage is configured"):
        registry.fetch(link_a, tmp_path / "deleted.wav", 1000, folders["wrong"])


def test_a_folder_without_credentials_uses_the_server_wide_storage(
    two_key_server: list[S3Server], identity: SqlIdentityStore, tmp_path: Path
) -> None:
    server_key = ServerKey(b"the server key of this test")
    admin = IdentityAdmin(identity, server_key, Auditor(identity))
    first, second = two_key_server
    bucket = "shared-" + uuid.uuid4().hex[:8]
    first.put(bucket, KEY, b"shared")
    plain = admin.create_folder("plain").id
    own = admin.create_folder("own").id
    admin.set_storage_credentials("own", first.endpoint_url, first.access_key_id, "not the secret")
    settings = Settings.model_validate(
        {
            "storage": {
                "endpoint_url": first.endpoint_url,
                "access_key_id": second.access_key_id,
                "secret_access_key": second.secret_access_key,
            }
        }
    )
    registry = SourceRegistry(settings, StoredStorageCredentials(identity, server_key))
    link = f"s3://{bucket}/{KEY}"
    assert registry.fetch(link, tmp_path / "plain.wav", 1000, plain) == 6
    with pytest.raises(PermissionDenied):
        registry.fetch(link, tmp_path / "own.wav", 1000, own)
