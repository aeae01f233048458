"""Following an operation with `Client`: its status and progress, waiting, its result from either API,
cancelling and deleting it."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncstt.client import Client, ClientError, OperationStatus, Progress, Recognition
from asyncstt.recognition import Transcript, Utterance, Word
from asyncstt.subtitles import render_srt, render_vtt
from tests.factories import make_transcript
from tests.unit.client.conftest import Server


def stereo() -> Transcript:
    """Two channels, times in whole milliseconds (what both APIs carry)."""
    return Transcript(
        utterances=(
            Utterance(
                channel=0,
                start=0.5,
                end=1.75,
                words=(Word("hello", 0.5, 0.9, 0.75), Word("twelve", 1.0, 1.75, 0.5)),
                raw_text="hello twelve",
                text="Hello 12.",
                confidence=0.625,
                language="en-US",
                language_probability=0.875,
            ),
            Utterance(
                channel=1,
                start=1.25,
                end=2.0,
                words=(Word("hi", 1.25, 2.0, 1.0),),
                raw_text="hi",
                text="Hi.",
                confidence=1.0,
            ),
        ),
        channels=2,
        duration_seconds=4.5,
    )


def test_get_reads_progress_from_the_metadata(
    client: Client, server: Server, wav_file: Path
) -> None:
    status = client.submit_file(wav_file)
    server.start()
    server.progress(status.id, 12.5, 50.0, "recognising")
    now = client.get(status.id)
    assert now == OperationStatus(
        id=status.id, done=False, error=None, progress=Progress(12.5, 50.0, "recognising"), api="v3"
    )
    assert now.progress is not None
    assert now.progress.fraction == 0.25
    assert Progress(0, 0, "queued").fraction is None


def test_a_queued_operation_knows_its_place_in_the_queue(
    client: Client, server: Server, wav_file: Path
) -> None:
    deferred = client.submit_file(wav_file, deferred=True)
    server.harness.clock.advance(1)
    first = client.submit_file(wav_file)
    server.harness.clock.advance(1)
    second = client.submit_file(wav_file, api="v2")
    # The submit's answer carries no position; polls do, standard work first, then oldest first.
    assert second.progress == Progress(0, 0, "queued")
    assert [client.get(s.id).progress for s in (first, second, deferred)] == [
        Progress(0, 0, "queued", queue_position=position) for position in (1, 2, 3)
    ]


def test_wait_reports_every_status_until_done(
    client: Client, server: Server, wav_file: Path
) -> None:
    status = client.submit_file(wav_file, api="v2")
    seen: list[OperationStatus] = []
    # Each report moves the operation one step on, as a dispatcher between two polls would.

    def on_progress(current: OperationStatus) -> None:
        seen.append(current)
        if len(seen) == 1:
            server.start()
            server.progress(status.id, 0, 0, "fetching")
        elif len(seen) == 2:
            server.progress(status.id, 3, 4, "recognising")
        elif len(seen) == 3:
            server.finish(status.id, stereo())

    done = client.wait(status.id, on_progress=on_progress, poll_interval=0.001)
    assert done == OperationStatus(id=status.id, done=True, error=None, progress=None, api="v2")
    assert [s.progress for s in seen] == [
        Progress(0, 0, "queued", queue_position=1),
        Progress(0, 0, "fetching"),
        Progress(3, 4, "recognising"),
        None,
    ]
    assert seen[-1] == done


def test_wait_returns_a_failed_operation_with_its_error(
    client: Client, server: Server, wav_file: Path
) -> None:
    status = client.submit_file(wav_file)
    server.start()
    server.fail(status.id, 5, "object s3://b/k not found")
    done = client.wait(status.id, poll_interval=0.001)
    assert done.done
    assert done.error == ClientError(5, "object s3://b/k not found")
    assert done.error.http_status is None


def test_wait_gives_up_at_its_timeout(client: Client, wav_file: Path) -> None:
    status = client.submit_file(wav_file)
    polls: list[OperationStatus] = []
    with pytest.raises(ClientError) as late:
        client.wait(status.id, on_progress=polls.append, poll_interval=0.01, timeout=0.3)
    assert late.value.code == 4
    assert late.value.code_name == "DEADLINE_EXCEEDED"
    assert late.value.message == f"operation {status.id} is not done after 0.3 s"
    assert len(polls) >= 2
    assert all(not p.done for p in polls)


def test_v3_result_is_read_from_the_recognition_stream(
    client: Client, server: Server, wav_file: Path
) -> None:
    status = client.submit_file(wav_file)
    server.start()
    server.finish(status.id, stereo())
    recognition = client.result(status.id)
    # v3 words carry no confidence.
    expected = stereo()
    expected = Transcript(
        utterances=tuple(
            Utterance(
                **{
                    **u.__dict__,
                    "words": tuple(Word(w.text, w.start, w.end) for w in u.words),
                }
            )
            for u in expected.utterances
        ),
        channels=2,
        duration_seconds=4.5,
    )
    assert recognition == Recognition(expected)
    assert recognition.text == "[1] Hello 12.\n[2] Hi."
    assert [u.text for u in recognition.channels[1]] == ["Hi."]
    assert recognition.to_json()["utterances"][0]["words"][1] == {
        "text": "twelve",
        "start": 1.0,
        "end": 1.75,
        "confidence": 1.0,
    }


def test_v2_result_is_read_from_the_operation_response(
    client: Client, server: Server, wav_file: Path
) -> None:
    status = client.submit_file(wav_file, api="v2")
    server.start()
    server.finish(status.id, stereo())
    recognition = client.result(status.id)
    # v2 carries no utterance times, raw text or language: the words' times and texts stand in for them.
    first, second = stereo().utterances
    assert recognition.transcript == Transcript(
        utterances=(
            Utterance(
                channel=0,
                start=0.5,
                end=1.75,
                words=first.words,
                raw_text="hello twelve",
                text="Hello 12.",
                confidence=0.625,
            ),
            Utterance(
                channel=1, start=1.25, end=2.0, words=second.words, raw_text="hi", text="Hi."
            ),
        ),
        channels=2,
        duration_seconds=2.0,
    )


@pytest.mark.parametrize("api", ["v2", "v3"])
def test_a_result_without_speech_is_empty(
    client: Client, server: Server, wav_file: Path, api: str
) -> None:
    status = client.submit_file(wav_file, api=api)  # type: ignore[arg-type]
    server.start()
    server.finish(status.id, Transcript(duration_seconds=3.0))
    recognition = client.result(status.id)
    assert recognition.transcript.utterances == ()
    assert recognition.text == ""
    assert recognition.channels == {}


def test_many_utterances_keep_their_order_and_channels(
    client: Client, server: Server, wav_file: Path
) -> None:
    status = client.submit_file(wav_file)
    server.start()
    server.finish(status.id, make_transcript(3, 6))
    recognition = client.result(status.id)
    assert [(u.channel, u.start, u.text) for u in recognition.transcript.utterances] == [
        (u % 2, float(u), f"{u}: привет мир") for u in range(6)
    ]
    assert [len(u.words) for u in recognition.transcript.utterances] == [3] * 6
    assert recognition.transcript.utterances[0].language == "ru-RU"


def test_subtitles_are_rendered_from_the_result(
    client: Client, server: Server, wav_file: Path
) -> None:
    status = client.submit_file(wav_file, api="v2")
    server.start()
    server.finish(status.id, stereo())
    recognition = client.result(status.id)
    assert recognition.srt() == render_srt(recognition.transcript)
    assert recognition.vtt() == render_vtt(recognition.transcript)
    assert "00:00:00,500 --> " in recognition.srt()
    assert recognition.vtt().startswith("WEBVTT")


def test_the_result_of_a_running_operation_is_not_ready(
    client: Client, server: Server, wav_file: Path
) -> None:
    status = client.submit_file(wav_file, api="v2")
    server.start()
    with pytest.raises(ClientError) as early:
        client.result(status.id)
    assert (early.value.code, early.value.message) == (9, f"operation {status.id} is not done yet")


@pytest.mark.parametrize("api", ["v2", "v3"])
def test_the_result_of_a_failed_operation_raises_its_error(
    client: Client, server: Server, wav_file: Path, api: str
) -> None:
    status = client.submit_file(wav_file, api=api)  # type: ignore[arg-type]
    server.start()
    server.fail(status.id, 3, "the file is not audio")
    with pytest.raises(ClientError) as failed:
        client.result(status.id)
    assert (failed.value.code, failed.value.message) == (3, "the file is not audio")


def test_cancel_ends_a_queued_operation(client: Client, wav_file: Path) -> None:
    status = client.submit_file(wav_file)
    cancelled = client.cancel(status.id)
    assert cancelled.done
    assert cancelled.error == ClientError(1, "cancelled")
    assert client.get(status.id) == cancelled


@pytest.mark.parametrize("api", ["v2", "v3"])
def test_delete_removes_the_operation(client: Client, wav_file: Path, api: str) -> None:
    status = client.submit_file(wav_file, api=api)  # type: ignore[arg-type]
    client.delete(status.id)
    with pytest.raises(ClientError) as gone:
        client.get(status.id)
    assert (gone.value.code, gone.value.http_status) == (5, 404)
    assert gone.value.message == f"operation {status.id} not found"


def test_an_unknown_operation_is_not_found(client: Client) -> None:
    with pytest.raises(ClientError) as unknown:
        client.result("f8d0000000000000000a")
    assert (unknown.value.code, unknown.value.http_status) == (5, 404)


def test_an_id_that_cannot_be_one_is_refused_before_any_request(client: Client) -> None:
    with pytest.raises(ClientError) as refused:
        client.get("../health")
    assert refused.value.code == 3
    assert refused.value.http_status is None
