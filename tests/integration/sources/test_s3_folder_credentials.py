"""Each folder's storage links read with that folder's own keys, against a real S3 server (rclone) that
accepts two key pairs and checks SigV4 signatures for real."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from asyncstt.errors import InvalidArgument, PermissionDenied
from asyncstt.iam.admin import IdentityAdmin
from asyncstt.iam.audit import Auditor
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.storage_credentials import StoredStorageCredentials
from asyncstt.settings import Settings
from asyncstt.sources.registry import SourceRegistry
from asyncstt.store.identity_sql import SqlIdentityStore
from asyncstt.store.sql import SqlStore
from tests.support.s3server import _stop, _wait_for_start, rclone_binary

pytestmark = pytest.mark.integration

KEY = "calls/one.wav"


def _pair() -> tuple[str, str]:
    return "AKFOLDER" + uuid.uuid4().hex[:12].upper(), uuid.uuid4().hex + uuid.uuid4().hex[:8]


class TwoKeyServer:
    def __init__(self, endpoint_url: str, root: Path, keys: list[tuple[str, str]]) -> None:
        self.endpoint_url = endpoint_url
        self.root = root
        self.keys = keys

    def put(self, bucket: str, key: str, data: bytes, pair: tuple[str, str]) -> None:
        (self.root / bucket).mkdir(exist_ok=True)
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=pair[0],
            aws_secret_access_key=pair[1],
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        client.put_object(Bucket=bucket, Key=key, Body=data)


@pytest.fixture(scope="module")
def two_key_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoKeyServer]:
    base = tmp_path_factory.mktemp("s3-two-keys")
    root = base / "data"
    root.mkdir()
    log = base / "rclone.log"
    keys = [_pair(), _pair()]
    command = [rclone_binary(), "serve", "s3", "--addr", "127.0.0.1:0"]
    for access_key_id, secret in keys:
        command += ["--auth-key", f"{access_key_id},{secret}"]
    command += [
        "--dir-cache-time",
        "0s",
        "--poll-interval",
        "0",
        "--config",
        str(base / "rclone.conf"),
        "--cache-dir",
        str(base / "cache"),
        str(root),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        yield TwoKeyServer(_wait_for_start(process, log), root, keys)
    finally:
        _stop(process)


@pytest.fixture
def identity(tmp_path: Path) -> Iterator[SqlIdentityStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        yield SqlIdentityStore(store)
    finally:
        store.close()


def test_each_folder_reads_its_links_with_its_own_keys(
    two_key_server: TwoKeyServer, identity: SqlIdentityStore, tmp_path: Path
) -> None:
    server_key = ServerKey(b"the server key of this test")
    admin = IdentityAdmin(identity, server_key, Auditor(identity))
    first, second = two_key_server.keys
    bucket_a, bucket_b = "team-a-" + uuid.uuid4().hex[:8], "team-b-" + uuid.uuid4().hex[:8]
    two_key_server.put(bucket_a, KEY, b"audio of team a", first)
    two_key_server.put(bucket_b, KEY, b"audio of team b!", second)
    folders = {name: admin.create_folder(name).id for name in ("a", "b", "wrong", "plain")}
    endpoint = two_key_server.endpoint_url
    admin.set_storage_credentials("a", endpoint, first[0], first[1])
    admin.set_storage_credentials("b", endpoint, second[0], second[1])
    admin.set_storage_credentials("wrong", endpoint, first[0], second[1])
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
    admin.set_storage_credentials("wrong", endpoint, first[0], first[1])
    assert registry.fetch(link_a, tmp_path / "fixed.wav", 1000, folders["wrong"]) == 15
    admin.delete_storage_credentials("wrong")
    with pytest.raises(InvalidArgument, match="no object storage is configured"):
        registry.fetch(link_a, tmp_path / "deleted.wav", 1000, folders["wrong"])


def test_a_folder_without_credentials_uses_the_server_wide_storage(
    two_key_server: TwoKeyServer, identity: SqlIdentityStore, tmp_path: Path
) -> None:
    server_key = ServerKey(b"the server key of this test")
    admin = IdentityAdmin(identity, server_key, Auditor(identity))
    first, second = two_key_server.keys
    bucket = "shared-" + uuid.uuid4().hex[:8]
    two_key_server.put(bucket, KEY, b"shared", first)
    plain = admin.create_folder("plain").id
    own = admin.create_folder("own").id
    admin.set_storage_credentials("own", two_key_server.endpoint_url, first[0], "not the secret")
    settings = Settings.model_validate(
        {
            "storage": {
                "endpoint_url": two_key_server.endpoint_url,
                "access_key_id": second[0],
                "secret_access_key": second[1],
            }
        }
    )
    registry = SourceRegistry(settings, StoredStorageCredentials(identity, server_key))
    link = f"s3://{bucket}/{KEY}"
    assert registry.fetch(link, tmp_path / "plain.wav", 1000, plain) == 6
    with pytest.raises(PermissionDenied):
        registry.fetch(link, tmp_path / "own.wav", 1000, own)
