"""`AsyncClient` over the real routes (httpx's ASGITransport): the same requests and answers as `Client`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from asyncstt.client import AsyncClient, ClientError, OperationStatus, Progress
from asyncstt.recognition import AudioEncoding, Transcript, Utterance, Word
from tests.unit.client.conftest import URL, Server, api_key, wav_bytes
from tests.unit.http.conftest import Harness

SPOKEN = Transcript(
    utterances=(
        Utterance(
            channel=0,
            start=0.25,
            end=1.5,
            words=(Word("ask", 0.25, 0.75), Word("not", 0.75, 1.5)),
            raw_text="ask not",
            text="Ask not.",
            confidence=0.75,
        ),
    ),
    channels=1,
    duration_seconds=2.0,
)


@pytest.mark.parametrize("api", ["v2", "v3"])
async def test_a_file_from_submit_to_result(
    async_client: AsyncClient, server: Server, wav_file: Path, api: str
) -> None:
    status = await async_client.submit_file(wav_file, language="en-US", api=api)  # type: ignore[arg-type]
    assert server.harness.store.inline_audio(status.id) == wav_bytes()
    assert server.operation(status.id).spec.language == "en-US"
    seen: list[OperationStatus] = []

    def on_progress(current: OperationStatus) -> None:
        seen.append(current)
        if len(seen) == 1:
            server.start()
            server.progress(status.id, 1, 2, "recognising")
        elif len(seen) == 2:
            server.finish(status.id, SPOKEN)

    done = await async_client.wait(status.id, on_progress=on_progress, poll_interval=0.001)
    assert done == OperationStatus(id=status.id, done=True, error=None, progress=None, api=api)  # type: ignore[arg-type]
    assert [s.progress for s in seen] == [
        Progress(0, 0, "queued", queue_position=1),
        Progress(1, 2, "recognising"),
        None,
    ]
    recognition = await async_client.result(status.id)
    assert recognition.text == "Ask not."
    assert [(w.text, w.start, w.end) for w in recognition.transcript.utterances[0].words] == [
        ("ask", 0.25, 0.75),
        ("not", 0.75, 1.5),
    ]
    await async_client.delete(status.id)
    with pytest.raises(ClientError) as gone:
        await async_client.get(status.id)
    assert (gone.value.code, gone.value.http_status) == (5, 404)


async def test_a_link_deferred_and_cancelled(async_client: AsyncClient, server: Server) -> None:
    status = await async_client.submit_link(
        "s3://acme/call.mp3", deferred=True, encoding="MP3", idempotency_key="k-1"
    )
    stored = server.operation(status.id)
    assert (stored.spec.model, stored.spec.audio_encoding) == (
        "deferred-general",
        AudioEncoding.MP3,
    )
    again = await async_client.submit_link(
        "s3://acme/call.mp3", deferred=True, encoding="MP3", idempotency_key="k-1"
    )
    assert again.id == status.id
    cancelled = await async_client.cancel(status.id)
    assert (cancelled.done, cancelled.error) == (True, ClientError(1, "cancelled"))
    with pytest.raises(ClientError) as failed:
        await async_client.result(status.id)
    assert failed.value.code == 1


async def test_errors_and_timeouts_raise_client_error(
    async_client: AsyncClient, wav_file: Path
) -> None:
    with pytest.raises(ClientError) as refused:
        await async_client.submit_link("ftp://example.test/a.wav", api="v2")
    assert (refused.value.code, refused.value.http_status) == (3, 400)
    status = await async_client.submit_file(wav_file)
    with pytest.raises(ClientError) as late:
        await async_client.wait(status.id, poll_interval=0.01, timeout=0.03)
    assert late.value.code == 4


async def test_a_big_file_without_upload_is_refused(harness: Harness, tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    path.write_bytes(wav_bytes(seconds=1))
    transport = httpx.ASGITransport(app=harness.client.app)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        AsyncClient(URL, api_key=api_key(harness), http=http, inline_limit=100) as client,
    ):
        with pytest.raises(ClientError) as refused:
            await client.submit_file(path)
    assert refused.value.code == 3
    assert "configure an upload bucket" in refused.value.message
