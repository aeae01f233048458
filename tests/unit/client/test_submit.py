"""Submitting through `Client`: what reaches the server for files and links, v2 and v3, and what comes back."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncstt.client import Client, ClientError
from asyncstt.operation import ApiVersion, OperationState
from asyncstt.recognition import AudioEncoding, Priority
from tests.unit.client.conftest import URL, Server, api_key, sync_http, wav_bytes
from tests.unit.http.conftest import OTHER_FOLDER, SERVICE_ACCOUNT, Harness


def test_a_small_file_goes_inline_with_its_container_from_the_bytes(
    client: Client, server: Server, tmp_path: Path
) -> None:
    # The suffix says MP3; the bytes are a WAV file, and the bytes win.
    path = tmp_path / "call.mp3"
    path.write_bytes(wav_bytes())
    status = client.submit_file(path, language="en-US")
    assert (status.done, status.error, status.api) == (False, None, "v3")
    assert status.progress is not None
    assert (status.progress.stage, status.progress.total_seconds) == ("queued", 0)
    stored = server.operation(status.id)
    assert stored.api is ApiVersion.V3
    assert stored.source_uri == "inline:"
    assert server.harness.store.inline_audio(status.id) == path.read_bytes()
    assert (stored.spec.language, stored.spec.model) == ("en-US", "general")
    assert stored.spec.audio_encoding is AudioEncoding.WAV
    assert stored.spec.priority is Priority.STANDARD
    # Numbers as digits, as v2 gives them by default.
    assert not stored.spec.raw_results
    assert stored.created_by == SERVICE_ACCOUNT


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("call.ogg", AudioEncoding.OGG_OPUS),
        ("call.opus", AudioEncoding.OGG_OPUS),
        ("call.MP3", AudioEncoding.MP3),
        ("call.wav", AudioEncoding.WAV),
        ("call.bin", AudioEncoding.AUTO),
    ],
)
def test_bytes_that_announce_nothing_take_the_container_from_the_suffix(
    client: Client, server: Server, tmp_path: Path, name: str, encoding: AudioEncoding
) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x01\x02" * 64)
    status = client.submit_file(path)
    assert server.operation(status.id).spec.audio_encoding is encoding


def test_v2_deferred_submission_of_a_file(client: Client, server: Server, wav_file: Path) -> None:
    status = client.submit_file(wav_file, language="en-US", api="v2", deferred=True)
    assert status.api == "v2"
    assert status.id.startswith("e03")
    stored = server.operation(status.id)
    assert stored.api is ApiVersion.V2
    assert stored.spec.model == "deferred-general"
    assert stored.spec.priority is Priority.DEFERRED
    # v2 knows no WAV; the file is declared LINEAR16_PCM as SpeechKit's examples do, and its header decides.
    assert stored.spec.audio_encoding is AudioEncoding.LINEAR16_PCM
    assert server.harness.store.inline_audio(status.id) == wav_file.read_bytes()


@pytest.mark.parametrize("api", ["v2", "v3"])
def test_a_link_is_submitted_with_its_declared_encoding(
    client: Client, server: Server, api: str
) -> None:
    uri = "s3://acme-calls/2025/call.ogg"
    status = client.submit_link(uri, api=api, encoding="OGG_OPUS", deferred=True)  # type: ignore[arg-type]
    stored = server.operation(status.id)
    assert stored.source_uri == uri
    assert stored.spec.audio_encoding is AudioEncoding.OGG_OPUS
    assert stored.spec.model == "deferred-general"
    assert stored.state is OperationState.QUEUED


def test_a_link_without_an_encoding_leaves_it_to_the_bytes(client: Client, server: Server) -> None:
    status = client.submit_link("https://example.test/call")
    assert server.operation(status.id).spec.audio_encoding is AudioEncoding.AUTO


@pytest.mark.parametrize("api", ["v2", "v3"])
def test_the_same_idempotency_key_gives_the_same_operation(client: Client, api: str) -> None:
    first = client.submit_link("s3://b/one.wav", api=api, idempotency_key="batch-1")  # type: ignore[arg-type]
    again = client.submit_link("s3://b/one.wav", api=api, idempotency_key="batch-1")  # type: ignore[arg-type]
    other = client.submit_link("s3://b/one.wav", api=api, idempotency_key="batch-2")  # type: ignore[arg-type]
    assert first.id == again.id
    assert other.id != first.id
    with pytest.raises(ClientError) as refused:
        client.submit_link("s3://b/two.wav", api=api, idempotency_key="batch-1")  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.http_status) == (3, 400)


def test_a_file_over_the_inline_limit_needs_an_upload_bucket(
    harness: Harness, tmp_path: Path
) -> None:
    path = tmp_path / "long.wav"
    path.write_bytes(wav_bytes(seconds=1))
    with (
        sync_http(harness) as http,
        Client(URL, api_key=api_key(harness), http=http, inline_limit=1000) as client,
        pytest.raises(ClientError) as refused,
    ):
        client.submit_file(path)
    assert refused.value.code == 3
    assert refused.value.http_status is None
    assert "over the inline limit" in refused.value.message
    assert "configure an upload bucket (Upload)" in refused.value.message
    assert harness.store.state_counts() == {}


def test_a_missing_file_is_refused_before_any_request(client: Client, tmp_path: Path) -> None:
    with pytest.raises(ClientError) as refused:
        client.submit_file(tmp_path / "absent.wav")
    assert refused.value.code == 3
    assert "absent.wav" in refused.value.message


def test_the_server_refusal_carries_its_status(client: Client) -> None:
    with pytest.raises(ClientError) as refused:
        client.submit_link("ftp://example.test/call.wav")
    error = refused.value
    assert (error.code, error.http_status) == (3, 400)
    assert error.message == "links like ftp://example.test/call.wav are not supported"
    assert str(error) == f"{error.message} (INVALID_ARGUMENT)"


def test_an_unserved_language_is_refused_with_the_servers_message(client: Client) -> None:
    with pytest.raises(ClientError) as refused:
        client.submit_link("s3://b/call.wav", language="de-DE")
    assert refused.value.code == 3
    assert "de-DE" in refused.value.message


@pytest.mark.parametrize("api", ["v2", "v3"])
def test_folder_id_acts_in_that_folder(harness: Harness, api: str) -> None:
    with (
        sync_http(harness) as http,
        Client(URL, api_key=api_key(harness), folder_id=OTHER_FOLDER, http=http) as client,
        pytest.raises(ClientError) as refused,
    ):
        client.submit_link("s3://b/call.wav", api=api)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.http_status) == (7, 403)
    assert harness.store.state_counts() == {}


def test_a_bad_key_is_unauthenticated(harness: Harness) -> None:
    with (
        sync_http(harness) as http,
        Client(URL, api_key="not-a-key", http=http) as client,
        pytest.raises(ClientError) as refused,
    ):
        client.submit_link("s3://b/call.wav")
    assert (refused.value.code, refused.value.http_status) == (16, 401)
