"""v3 speaker labeling against a real `asyncstt serve` with the real engine, over REST and gRPC.

A mono conversation of two speakers taking turns (tests/support/conversation.py), recognised in 6 s slices so
that turns run across slice boundaries: getRecognition reports each utterance's speaker as its channelTag, 90 %
of the words under the right one, the same over gRPC. A one-speaker file gets one label; raw stereo audio asking
for labeling is refused at submit.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from yandex.cloud.ai.stt.v3 import stt_pb2, stt_service_pb2, stt_service_pb2_grpc

from asyncstt.recognition import Utterance, Word
from asyncstt.server.process import free_port
from tests.acceptance.conftest import wait_done
from tests.support.audio import write_wav
from tests.support.conversation import (
    Conversation,
    conversation,
    joined,
    reader_pieces,
    word_accuracy,
)
from tests.support.environment import child_environment
from tests.support.serve import ServeProcess

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

CALL_TIMEOUT = 30.0


@dataclass(frozen=True)
class Recordings:
    talk: Path
    turns: Conversation
    one_voice: Path


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory, reference_audio: Path) -> Recordings:
    root = tmp_path_factory.mktemp("speakers")
    made = conversation(reference_audio)
    reader = joined([(0, piece) for piece in reader_pieces()])
    return Recordings(
        talk=write_wav(root / "conversation.wav", [made.samples], 16000),
        turns=made,
        one_voice=write_wav(root / "reader.wav", [reader.samples], 16000),
    )


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, recordings: Recordings
) -> Iterator[ServeProcess]:
    env = child_environment(
        {
            "ASYNCSTT_EXECUTION__LOCAL_WORKERS": "2",
            "ASYNCSTT_EXECUTION__SLICE_SECONDS": "6",
            "ASYNCSTT_EXECUTION__SNAP_WINDOW_SECONDS": "1.5",
            # Polls until done, then the result at once: the v3 poll quota (5 a second) is not what this tests.
            "ASYNCSTT_IAM__QUOTAS__ENABLED": "false",
        }
    )
    process = ServeProcess(
        data_dir=tmp_path_factory.mktemp("serve") / "data",
        env=env,
        args=["--file-root", str(recordings.talk.parent)],
        grpc_port=free_port(),
    )
    process.data_dir.mkdir(parents=True)
    process.api_key = process.create_key()
    process.start()
    try:
        yield process
    finally:
        process.stop()


def labelled(uri: str, channels: int = 0) -> dict[str, Any]:
    message = stt_pb2.RecognizeFileRequest(uri=uri)
    model = message.recognition_model
    model.language_restriction.language_code.append("en-US")
    if channels:
        model.audio_format.raw_audio.sample_rate_hertz = 16000
        model.audio_format.raw_audio.audio_channel_count = channels
    message.speaker_labeling.speaker_labeling = (
        stt_pb2.SpeakerLabelingOptions.SPEAKER_LABELING_ENABLED
    )
    body: dict[str, Any] = json_format.MessageToDict(message)
    return body


def recognised(client: httpx.Client, path: Path) -> tuple[str, list[Utterance]]:
    """The operation id and the finals of its result stream as utterances: channelTag as channel."""
    submitted = client.post("/stt/v3/recognizeFileAsync", json=labelled(path.as_uri()))
    assert submitted.status_code == 200, submitted.text
    operation = wait_done(client, submitted.json()["id"], timeout=300)
    assert "error" not in operation, operation
    response = client.get("/stt/v3/getRecognition", params={"operationId": operation["id"]})
    assert response.status_code == 200, response.text
    messages = [
        json_format.ParseDict(json.loads(line)["result"], stt_pb2.StreamingResponse())
        for line in response.content.splitlines()
    ]
    return operation["id"], [finals(message) for message in messages if message.HasField("final")]


def finals(message: Any) -> Utterance:
    alternative = message.final.alternatives[0]
    assert message.channel_tag == message.final.channel_tag
    words = tuple(
        Word(word.text, word.start_time_ms / 1000, word.end_time_ms / 1000)
        for word in alternative.words
    )
    return Utterance(
        channel=int(message.channel_tag),
        start=alternative.start_time_ms / 1000,
        end=alternative.end_time_ms / 1000,
        words=words,
        raw_text=alternative.text,
        text=alternative.text,
    )


def test_two_speakers_get_their_own_channel_tags_over_rest_and_grpc(
    server: ServeProcess, recordings: Recordings
) -> None:
    with server.client() as client:
        operation_id, utterances = recognised(client, recordings.talk)
    tags = [u.channel for u in utterances]
    assert tags[0] == 0
    assert set(tags) == {0, 1}
    assert word_accuracy(utterances, recordings.turns.turns) >= 0.9
    # The speakers alternate five times: the labels follow the turns, not noise.
    changes = sum(a != b for a, b in itertools.pairwise(tags))
    assert 4 <= changes <= 6, tags

    with grpc.insecure_channel(server.grpc_address) as channel:
        streamed = stt_service_pb2_grpc.AsyncRecognizerStub(channel).GetRecognition(
            stt_service_pb2.GetRecognitionRequest(operation_id=operation_id),
            metadata=(("authorization", f"Api-Key {server.api_key}"),),
            timeout=CALL_TIMEOUT,
        )
        over_grpc = [finals(message) for message in streamed if message.HasField("final")]
    assert [(u.channel, u.raw_text) for u in over_grpc] == [
        (u.channel, u.raw_text) for u in utterances
    ]


def test_one_speaker_gets_one_label(server: ServeProcess, recordings: Recordings) -> None:
    with server.client() as client:
        _, utterances = recognised(client, recordings.one_voice)
    assert len(utterances) >= 3
    assert {u.channel for u in utterances} == {0}


def test_raw_stereo_asking_for_labeling_is_refused_at_submit(
    server: ServeProcess, recordings: Recordings
) -> None:
    # Refused before any audio is read: the link need not lead anywhere.
    stereo = recordings.talk.parent / "stereo.raw"
    with server.client() as client:
        response = client.post(
            "/stt/v3/recognizeFileAsync", json=labelled(stereo.as_uri(), channels=2)
        )
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert response.json()["message"].startswith("speakerLabeling works on mono audio only")
