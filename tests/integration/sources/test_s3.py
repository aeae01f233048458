"""The S3 source against a real S3 server (rclone) on 127.0.0.1, with real SigV4 checking."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from asyncstt.errors import InvalidArgument, NotFound, PermissionDenied, Unavailable
from asyncstt.settings import Settings
from asyncstt.sources.guard import format_size
from asyncstt.sources.registry import SourceRegistry
from asyncstt.sources.s3 import S3Source
from tests.support.s3server import S3Server

pytestmark = pytest.mark.integration

ALIAS = "storage.example.test"
KEY = "2025/03/call 0001+a.wav"


@pytest.fixture
def bucket(s3_server: S3Server, reference_audio: Path) -> str:
    """A fresh bucket holding jfk.wav under KEY."""
    name = "calls-" + uuid.uuid4().hex[:12]
    s3_server.put(name, KEY, reference_audio / "jfk.wav")
    return name


@pytest.fixture
def source(s3_server: S3Server) -> S3Source:
    return S3Source(s3_server.storage_settings(aliases=[ALIAS]))


def _link(base: str, bucket: str, key: str) -> str:
    return f"{base}/{bucket}/{quote(key)}"


def test_s3_link_is_downloaded(
    source: S3Source, bucket: str, reference_audio: Path, tmp_path: Path
) -> None:
    expected = (reference_audio / "jfk.wav").read_bytes()
    assert source.fetch(f"s3://{bucket}/{KEY}", tmp_path / "a", 10**9) == len(expected)
    assert (tmp_path / "a").read_bytes() == expected


def test_path_style_link_to_the_endpoint_is_read_through_the_api(
    s3_server: S3Server, source: S3Source, bucket: str, reference_audio: Path, tmp_path: Path
) -> None:
    link = _link(s3_server.endpoint_url, bucket, KEY)
    assert source.validate(link) == f"s3://{bucket}/{KEY}"
    source.fetch(link, tmp_path / "a", 10**9)
    assert (tmp_path / "a").read_bytes() == (reference_audio / "jfk.wav").read_bytes()


def test_presigned_link_is_read_with_the_query_ignored(
    s3_server: S3Server, source: S3Source, bucket: str, reference_audio: Path, tmp_path: Path
) -> None:
    presigned = s3_server.presigned_get(bucket, KEY)
    parts = urlsplit(presigned)
    query = dict(parse_qsl(parts.query))
    assert "X-Amz-Signature" in query
    # A signature the server would reject: the server's own credentials are what must be used.
    query["X-Amz-Signature"] = "0" * 64
    tampered = parts._replace(query=urlencode(query)).geturl()
    source.fetch(tampered, tmp_path / "a", 10**9)
    assert (tmp_path / "a").read_bytes() == (reference_audio / "jfk.wav").read_bytes()


def test_alias_host_links_go_to_the_configured_endpoint(
    source: S3Source, bucket: str, reference_audio: Path, tmp_path: Path
) -> None:
    expected = (reference_audio / "jfk.wav").read_bytes()
    path_style = _link(f"https://{ALIAS}", bucket, KEY) + "?X-Amz-Signature=from-another-storage"
    source.fetch(path_style, tmp_path / "path", 10**9)
    assert (tmp_path / "path").read_bytes() == expected
    virtual = f"https://{bucket}.{ALIAS}/{quote(KEY)}"
    source.fetch(virtual, tmp_path / "virtual", 10**9)
    assert (tmp_path / "virtual").read_bytes() == expected


def test_a_wrong_secret_is_permission_denied(
    s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    source = S3Source(
        s3_server.storage_settings(secret_access_key=SecretStr("not-the-secret-0123456789"))
    )
    with pytest.raises(PermissionDenied) as caught:
        source.fetch(f"s3://{bucket}/{KEY}", tmp_path / "a", 10**9)
    assert (
        caught.value.message
        == f"storage refused access to s3://{bucket}/{KEY}: SignatureDoesNotMatch"
    )
    assert not (tmp_path / "a").exists()


def test_an_unknown_access_key_is_permission_denied(
    s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    source = S3Source(s3_server.storage_settings(access_key_id="AKUNKNOWNUNKNOWNKEY1"))
    with pytest.raises(PermissionDenied, match="InvalidAccessKeyId"):
        source.fetch(f"s3://{bucket}/{KEY}", tmp_path / "a", 10**9)


def test_missing_objects_and_buckets_are_not_found(
    source: S3Source, bucket: str, tmp_path: Path
) -> None:
    with pytest.raises(NotFound) as caught:
        source.fetch(f"s3://{bucket}/nope.wav", tmp_path / "a", 10**9)
    assert caught.value.message == f"object s3://{bucket}/nope.wav not found"
    with pytest.raises(NotFound, match="not found"):
        source.fetch("s3://no-such-bucket-here/a.wav", tmp_path / "a", 10**9)
    assert not (tmp_path / "a").exists()


def test_an_object_over_the_limit_is_refused_before_download(
    source: S3Source, bucket: str, reference_audio: Path, tmp_path: Path
) -> None:
    size = (reference_audio / "jfk.wav").stat().st_size
    with pytest.raises(InvalidArgument) as caught:
        source.fetch(f"s3://{bucket}/{KEY}", tmp_path / "a", 100 * 1024)
    assert caught.value.message == (
        f"s3://{bucket}/{KEY}: the file is {format_size(size)}; the limit is 100 KB"
    )
    assert not (tmp_path / "a").exists()


def test_an_unreachable_endpoint_is_unavailable(s3_server: S3Server, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    source = S3Source(s3_server.storage_settings(endpoint_url=f"http://127.0.0.1:{closed_port}"))
    with pytest.raises(Unavailable, match="unreachable"):
        source.fetch("s3://calls/a.wav", tmp_path / "a", 10**9)


def test_registry_downloads_a_presigned_link_atomically(
    s3_server: S3Server, bucket: str, reference_audio: Path, tmp_path: Path
) -> None:
    registry = SourceRegistry(Settings(storage=s3_server.storage_settings()))
    canonical = registry.validate(s3_server.presigned_get(bucket, KEY), "b1gfolder")
    assert canonical == f"s3://{bucket}/{KEY}"
    destination = tmp_path / "op" / "audio.wav"
    assert (
        registry.fetch(canonical, destination, 10**9, "b1gfolder")
        == (reference_audio / "jfk.wav").stat().st_size
    )
    assert [p.name for p in destination.parent.iterdir()] == ["audio.wav"]
    with pytest.raises(InvalidArgument):
        registry.fetch(canonical, tmp_path / "op" / "small.wav", 1000, "b1gfolder")
    assert [p.name for p in destination.parent.iterdir()] == ["audio.wav"]


def test_fixture_presigned_links_are_checked_by_the_server(
    s3_server: S3Server, bucket: str
) -> None:
    """The server is real: it accepts its own pre-signed link and refuses a tampered one."""
    presigned = s3_server.presigned_get(bucket, KEY, expires=60)
    with httpx.Client(trust_env=False, timeout=30) as client:
        assert client.get(presigned).status_code == 200
        assert (
            client.get(presigned.replace("X-Amz-Expires=60", "X-Amz-Expires=61")).status_code == 403
        )
