"""Speech analysis and the profanity classifier end to end: a stereo call recognised by the real engine on a real
`asyncstt serve`, every analysis message read back with the official protobuf classes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from yandex.cloud.ai.stt.v3 import stt_pb2

from tests.acceptance.conftest import wait_done
from tests.support.audio import read_wav_mono, write_wav
from tests.support.wer import LIBRIVOX

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

#: The second party starts 9 s in, in the middle of JFK's last phrase ("ask what you can do for your country",
#: from about 8.3 s to the end of his 11 s): he starts nothing while the other speaks, however the engine cuts
#: his speech into utterances, so only the second party interrupts.
BREAK_IN_SECONDS = 9
QUANTILES = [0.5, 0.9]


@pytest.fixture
def call(s3_server: Any, reference_audio: Path, tmp_path: Path) -> str:
    left = read_wav_mono(reference_audio / "jfk.wav")
    right = read_wav_mono(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0870.wav")
    right = np.pad(right, (BREAK_IN_SECONDS * 16000, 0))
    length = max(len(left), len(right))
    channels = [np.pad(x, (0, length - len(x))) for x in (left, right)]
    s3_server.put("calls", "v3-analysis.wav", write_wav(tmp_path / "call.wav", channels, 16000))
    return "s3://calls/v3-analysis.wav"


def analysed(uri: str) -> stt_pb2.RecognizeFileRequest:
    message = stt_pb2.RecognizeFileRequest(uri=uri)
    restriction = message.recognition_model.language_restriction
    restriction.restriction_type = stt_pb2.LanguageRestrictionOptions.WHITELIST
    restriction.language_code.append("en-US")
    message.recognition_classifier.classifiers.add(
        classifier="profanity",
        triggers=[
            stt_pb2.RecognitionClassifier.ON_UTTERANCE,
            stt_pb2.RecognitionClassifier.ON_FINAL,
        ],
    )
    analysis = message.speech_analysis
    analysis.enable_speaker_analysis = True
    analysis.enable_conversation_analysis = True
    analysis.descriptive_statistics_quantiles.extend(QUANTILES)
    return message


def stream(client: httpx.Client, operation_id: str, **params: str) -> list[dict[str, Any]]:
    response = client.get("/stt/v3/getRecognition", params={"operationId": operation_id, **params})
    assert response.status_code == 200, response.text
    return [json.loads(line)["result"] for line in response.content.splitlines()]


def every_field(data: dict[str, Any], descriptor: Descriptor) -> None:
    """Every field of the message is in its JSON, and so of every message inside it."""
    assert set(data) == {field.json_name for field in descriptor.fields}, descriptor.name
    for field in descriptor.fields:
        if field.message_type is not None:
            values = data[field.json_name] if field.is_repeated else [data[field.json_name]]
            for value in values:
                every_field(value, field.message_type)


def test_a_stereo_call_with_speech_analysis_and_the_profanity_classifier(
    client: httpx.Client, call: str
) -> None:
    response = client.post(
        "/stt/v3/recognizeFileAsync", content=json_format.MessageToJson(analysed(call))
    )
    assert response.status_code == 200, response.text
    operation = wait_done(client, response.json()["id"])
    assert "error" not in operation, operation

    lines = stream(client, operation["id"])
    messages = [json_format.ParseDict(line, stt_pb2.StreamingResponse()) for line in lines]
    kinds = [message.WhichOneof("Event") for message in messages]
    finals = [m for m in messages if m.WhichOneof("Event") == "final"]
    assert {m.channel_tag for m in finals} == {"0", "1"}
    # Each utterance: its final, the classifier on it, refinement, end, the classifier again, its analysis.
    assert kinds.count("classifier_update") == 2 * len(finals)
    assert kinds.count("speaker_analysis") == len(finals) + 2
    assert kinds[-3:] == ["speaker_analysis", "speaker_analysis", "conversation_analysis"]
    for line, kind in zip(lines, kinds, strict=True):
        if kind == "speaker_analysis":
            every_field(line["speakerAnalysis"], stt_pb2.SpeakerAnalysis.DESCRIPTOR)
        elif kind == "conversation_analysis":
            every_field(line["conversationAnalysis"], stt_pb2.ConversationAnalysis.DESCRIPTOR)
        elif kind == "classifier_update":
            every_field(line["classifierUpdate"], stt_pb2.RecognitionClassifierUpdate.DESCRIPTOR)

    # Nobody swears in either recording.
    for message in messages:
        if message.WhichOneof("Event") == "classifier_update":
            result = message.classifier_update.classifier_result
            assert result.classifier == "profanity"
            assert list(result.highlights) == []
            assert [(label.label, label.confidence) for label in result.labels] == [
                ("profanity", 0.0)
            ]

    totals = {m.speaker_analysis.speaker_tag: m.speaker_analysis for m in messages[-3:-1]}
    assert set(totals) == {"0", "1"}
    for tag, total in totals.items():
        words = [w for m in finals if m.channel_tag == tag for w in m.final.alternatives[0].words]
        assert total.window_type == stt_pb2.SpeakerAnalysis.TOTAL
        assert total.words_count == len(words)
        assert total.letters_count == sum(c.isalpha() for w in words for c in w.text)
        assert total.utterance_count == sum(m.channel_tag == tag for m in finals)
        assert total.total_speech_ms + total.total_silence_ms == (
            total.speech_boundaries.end_time_ms
        )
        assert 0 < total.speech_ratio < 1
        assert total.speech_ratio + total.silence_ratio == pytest.approx(1.0)
        assert 1 < total.words_per_second.mean < 6
        assert [q.level for q in total.utterance_duration_estimation.quantiles] == QUANTILES
    # JFK speaks for most of his 11 s; the second party for about 6 s of its 7 s, from 9 s on.
    assert 6_000 < totals["0"].total_speech_ms < 11_000
    assert 4_000 < totals["1"].total_speech_ms < 7_200

    conversation = messages[-1].conversation_analysis
    window = conversation.conversation_boundaries.end_time_ms
    assert window >= 15_000
    assert 0 < conversation.total_simultaneous_speech_duration_ms <= 3_200
    assert (
        conversation.total_speech_duration_ms + conversation.total_simultaneous_silence_duration_ms
        == window
    )
    interrupts = {i.speaker_tag: i for i in conversation.speaker_interrupts}
    assert interrupts["0"].interrupts_count == 0
    assert interrupts["1"].interrupts_count >= 1
    first = interrupts["1"].interrupts[0]
    # Word timings are good to a few hundred milliseconds.
    assert BREAK_IN_SECONDS * 1000 - 500 <= first.start_time_ms < 11_000

    # A finished operation's partial results are its whole result.
    assert unstamped(stream(client, operation["id"], partial="true")) == unstamped(lines)


def unstamped(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in line.items() if k != "responseWallTimeMs"} for line in lines]
