"""Files over the inline cap go to a real S3 server (rclone, real SigV4) and are submitted by link."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import httpx
import pytest

from asyncstt.client import AsyncClient, Client, ClientError, Upload
from asyncstt.recognition import AudioEncoding
from asyncstt.sources.s3 import S3Source
from tests.support.s3server import S3Server
from tests.unit.client.conftest import URL, Server, api_key, sync_http
from tests.unit.http.conftest import Harness

pytestmark = pytest.mark.integration

PREFIX = "uploads/2025/"


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    name = "inbox-" + uuid.uuid4().hex[:12]
    (s3_server.root / name).mkdir()
    return name


def upload_to(s3_server: S3Server, bucket: str, secret: str | None = None) -> Upload:
    return Upload(
        endpoint_url=s3_server.endpoint_url,
        bucket=bucket,
        access_key_id=s3_server.access_key_id,
        secret_access_key=secret or s3_server.secret_access_key,
        prefix=PREFIX,
        region=s3_server.region,
    )


def test_a_file_over_the_cap_is_uploaded_once_and_submitted_by_link(
    harness: Harness, server: Server, s3_server: S3Server, bucket: str, reference_audio: Path
) -> None:
    audio = reference_audio / "jfk.wav"
    key = PREFIX + hashlib.sha256(audio.read_bytes()).hexdigest() + ".wav"
    with (
        sync_http(harness) as http,
        Client(
            URL,
            api_key=api_key(harness),
            upload=upload_to(s3_server, bucket),
            inline_limit=64 * 1024,
            http=http,
        ) as client,
    ):
        first = client.submit_file(audio, language="en-US")
        stored = server.operation(first.id)
        assert stored.source_uri == f"s3://{bucket}/{key}"
        assert stored.spec.audio_encoding is AudioEncoding.WAV
        assert server.harness.store.inline_audio(first.id) is None
        body = s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == audio.read_bytes()

        # Bytes of the same length put in its place by hand: a second submit must not upload over them.
        stand_in = bytes(len(body))
        (s3_server.root / bucket / key).write_bytes(stand_in)
        second = client.submit_file(audio, language="en-US", api="v2")
        assert server.operation(second.id).source_uri == f"s3://{bucket}/{key}"
        assert s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read() == stand_in
    assert [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]] == [
        key
    ]


def test_the_submitted_link_is_one_the_servers_s3_source_reads(
    harness: Harness,
    server: Server,
    s3_server: S3Server,
    bucket: str,
    reference_audio: Path,
    tmp_path: Path,
) -> None:
    audio = reference_audio / "jfk.wav"
    # Without a key: the harness's app refuses, but only after the upload, which is what is checked.
    with (
        sync_http(harness) as http,
        Client(URL, upload=upload_to(s3_server, bucket), inline_limit=1024, http=http) as client,
        pytest.raises(ClientError) as refused,
    ):
        client.submit_file(audio)
    assert refused.value.code == 16
    link = f"s3://{bucket}/{PREFIX}{hashlib.sha256(audio.read_bytes()).hexdigest()}.wav"
    source = S3Source(s3_server.storage_settings())
    assert source.fetch(link, tmp_path / "fetched", 10**9) == audio.stat().st_size
    assert (tmp_path / "fetched").read_bytes() == audio.read_bytes()


def test_a_wrong_secret_is_permission_denied_and_nothing_is_submitted(
    harness: Harness, s3_server: S3Server, bucket: str, reference_audio: Path
) -> None:
    with (
        sync_http(harness) as http,
        Client(
            URL,
            api_key=api_key(harness),
            upload=upload_to(s3_server, bucket, secret="0" * 40),
            inline_limit=1024,
            http=http,
        ) as client,
        pytest.raises(ClientError) as refused,
    ):
        client.submit_file(reference_audio / "jfk.wav")
    assert refused.value.code == 7
    assert f"s3://{bucket}/{PREFIX}" in refused.value.message
    assert harness.store.state_counts() == {}


def test_a_missing_bucket_is_not_found(
    harness: Harness, s3_server: S3Server, reference_audio: Path
) -> None:
    with (
        sync_http(harness) as http,
        Client(
            URL,
            api_key=api_key(harness),
            upload=upload_to(s3_server, "absent-" + uuid.uuid4().hex[:8]),
            inline_limit=1024,
            http=http,
        ) as client,
        pytest.raises(ClientError) as refused,
    ):
        client.submit_file(reference_audio / "jfk.wav")
    assert refused.value.code == 5


async def test_the_async_client_uploads_in_a_thread(
    harness: Harness, server: Server, s3_server: S3Server, bucket: str, reference_audio: Path
) -> None:
    audio = reference_audio / "jfk.wav"
    transport = httpx.ASGITransport(app=harness.client.app)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        AsyncClient(
            URL,
            api_key=api_key(harness),
            upload=upload_to(s3_server, bucket),
            inline_limit=1024,
            http=http,
        ) as client,
    ):
        status = await client.submit_file(audio, deferred=True)
    stored = server.operation(status.id)
    assert stored.source_uri is not None
    assert stored.source_uri.startswith(f"s3://{bucket}/{PREFIX}")
    assert stored.spec.model == "deferred-general"
