"""API v3 recognizeFileAsync + Operation API + getRecognition against a real `asyncstt serve` process.

The client side uses the official messages: requests are built as `RecognizeFileRequest` and serialised with
`json_format`, and every streamed line is parsed back into `StreamingResponse`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from google.protobuf import json_format
from yandex.cloud.ai.stt.v3 import stt_pb2

from tests.acceptance.conftest import wait_done
from tests.support.audio import read_wav_mono, write_wav
from tests.support.wer import JFK_REFERENCE, LIBRIVOX, librivox_reference, word_errors

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

LIBRIVOX_NAME = "sense_and_sensibility_01_austen_64kb-0870"
EMPTY = "type.googleapis.com/google.protobuf.Empty"


def request(
    uri: str | None = None,
    content: bytes | None = None,
    container: stt_pb2.ContainerAudio.ContainerAudioType.ValueType | None = None,
    normalization: bool = True,
) -> stt_pb2.RecognizeFileRequest:
    message = stt_pb2.RecognizeFileRequest()
    if uri is not None:
        message.uri = uri
    if content is not None:
        message.content = content
    model = message.recognition_model
    model.model = "general"
    if container is not None:
        model.audio_format.container_audio.container_audio_type = container
    if normalization:
        model.text_normalization.text_normalization = (
            stt_pb2.TextNormalizationOptions.TEXT_NORMALIZATION_ENABLED
        )
        model.text_normalization.literature_text = True
    model.language_restriction.restriction_type = stt_pb2.LanguageRestrictionOptions.WHITELIST
    model.language_restriction.language_code.append("en-US")
    return message


def submit(client: httpx.Client, message: stt_pb2.RecognizeFileRequest) -> dict[str, Any]:
    response = client.post("/stt/v3/recognizeFileAsync", content=json_format.MessageToJson(message))
    assert response.status_code == 200, response.text
    operation: dict[str, Any] = response.json()
    assert operation["done"] is False
    assert operation["id"].startswith("f8d")
    assert operation["description"] == "STT v3 async recognition"
    return operation


def recognise(client: httpx.Client, message: stt_pb2.RecognizeFileRequest) -> list[Any]:
    """Submit, poll the Operation API until done, then read and parse the whole result stream."""
    operation = wait_done(client, submit(client, message)["id"])
    assert "error" not in operation, operation
    assert operation["response"] == {"@type": EMPTY}
    return results(client, operation["id"])


def results(client: httpx.Client, operation_id: str) -> list[Any]:
    response = client.get("/stt/v3/getRecognition", params={"operationId": operation_id})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    parsed = []
    for line in response.content.splitlines():
        wrapper = json.loads(line)
        assert set(wrapper) == {"result"}
        parsed.append(json_format.Parse(json.dumps(wrapper["result"]), stt_pb2.StreamingResponse()))
    return parsed


def refined_text(messages: list[Any], channel: str = "0") -> str:
    return " ".join(
        m.final_refinement.normalized_text.alternatives[0].text
        for m in messages
        if m.WhichOneof("Event") == "final_refinement" and m.channel_tag == channel
    )


def assert_sequence(messages: list[Any], operation_id: str) -> None:
    """final, finalRefinement, eouUpdate per utterance; finalIndex counting per channel from 0."""
    assert messages, "no results"
    assert len(messages) % 3 == 0
    next_index: dict[str, int] = {}
    for final, refinement, eou in zip(messages[::3], messages[1::3], messages[2::3], strict=True):
        assert final.WhichOneof("Event") == "final"
        assert refinement.WhichOneof("Event") == "final_refinement"
        assert eou.WhichOneof("Event") == "eou_update"
        tag = final.channel_tag
        assert refinement.channel_tag == eou.channel_tag == final.final.channel_tag == tag
        index = next_index.get(tag, 0)
        next_index[tag] = index + 1
        assert final.audio_cursors.final_index == refinement.final_refinement.final_index == index
        alternative = final.final.alternatives[0]
        assert alternative.text == alternative.text.lower()
        assert alternative.words
        assert alternative.start_time_ms <= alternative.words[0].start_time_ms
        assert eou.eou_update.time_ms == eou.audio_cursors.eou_time_ms == alternative.end_time_ms
        for message in (final, refinement, eou):
            assert message.session_uuid.user_request_id == operation_id


def test_jfk_by_link_with_official_messages(client: httpx.Client, audio_fixtures: Any) -> None:
    uri = Path(audio_fixtures.jfk_wav).resolve().as_uri()
    operation = submit(client, request(uri=uri, container=stt_pb2.ContainerAudio.WAV))
    early = client.get("/stt/v3/getRecognition", params={"operation_id": operation["id"]})
    if early.status_code != 200:  # it may already be done on a fast machine
        assert early.status_code == 400
        assert early.json()["code"] == 9
    done = wait_done(client, operation["id"])
    assert done["response"] == {"@type": EMPTY}
    messages = results(client, operation["id"])
    assert_sequence(messages, operation["id"])
    assert {m.channel_tag for m in messages} == {"0"}
    text = refined_text(messages)
    assert word_errors(text, JFK_REFERENCE) <= 1, text
    assert text[0].isupper()
    raw = " ".join(m.final.alternatives[0].text for m in messages if m.HasField("final"))
    assert word_errors(raw, JFK_REFERENCE) <= 1, raw


def test_inline_mp3_detected_without_audio_format(
    client: httpx.Client, audio_fixtures: Any
) -> None:
    content = Path(audio_fixtures.jfk_mp3).read_bytes()
    messages = recognise(client, request(content=content, normalization=False))
    text = refined_text(messages)
    assert word_errors(text, JFK_REFERENCE) <= 1, text


def test_snake_case_body_as_vendor_examples_send_it(
    client: httpx.Client, audio_fixtures: Any
) -> None:
    body = {
        "content": base64.b64encode(Path(audio_fixtures.jfk_ogg).read_bytes()).decode(),
        "recognition_model": {
            "model": "deferred-general",
            "audio_format": {"container_audio": {"container_audio_type": "OGG_OPUS"}},
            "language_restriction": {"restriction_type": "WHITELIST", "language_code": ["en-US"]},
        },
    }
    response = client.post("/stt/v3/recognizeFileAsync", json=body)
    assert response.status_code == 200, response.text
    operation_id = response.json()["id"]
    wait_done(client, operation_id)
    messages = results(client, operation_id)
    assert_sequence(messages, operation_id)
    assert word_errors(refined_text(messages), JFK_REFERENCE) <= 1


def test_stereo_channels_and_final_index_per_channel(
    client: httpx.Client, s3_server: Any, reference_audio: Path, tmp_path: Path
) -> None:
    left = read_wav_mono(reference_audio / "jfk.wav")
    right = read_wav_mono(LIBRIVOX / f"{LIBRIVOX_NAME}.wav")
    length = max(len(left), len(right))
    stereo = write_wav(
        tmp_path / "stereo.wav", [np.pad(x, (0, length - len(x))) for x in (left, right)], 16000
    )
    s3_server.put("calls", "v3-stereo.wav", stereo)
    messages = recognise(client, request(uri="s3://calls/v3-stereo.wav"))
    operation_id = messages[0].session_uuid.user_request_id
    assert_sequence(messages, operation_id)
    assert {m.channel_tag for m in messages} == {"0", "1"}
    assert word_errors(refined_text(messages, "0"), JFK_REFERENCE) <= 1
    assert word_errors(refined_text(messages, "1"), librivox_reference(LIBRIVOX_NAME)) <= 3


def test_silence_is_an_empty_stream(client: httpx.Client, audio_fixtures: Any) -> None:
    uri = Path(audio_fixtures.silence_wav).resolve().as_uri()
    assert recognise(client, request(uri=uri)) == []


def test_analytics_are_refused(client: httpx.Client, audio_fixtures: Any) -> None:
    message = request(uri=Path(audio_fixtures.jfk_wav).resolve().as_uri())
    message.summarization.model_uri = "gpt://b1g/yandexgpt"
    response = client.post("/stt/v3/recognizeFileAsync", content=json_format.MessageToJson(message))
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert "summarization" in response.json()["message"]


def test_delete_recognition(client: httpx.Client, audio_fixtures: Any) -> None:
    uri = Path(audio_fixtures.jfk_wav).resolve().as_uri()
    operation_id = submit(client, request(uri=uri))["id"]
    wait_done(client, operation_id)
    deleted = client.delete("/stt/v3/deleteRecognition", params={"operationId": operation_id})
    assert deleted.status_code == 200
    assert deleted.json() == {}
    gone = client.get("/stt/v3/getRecognition", params={"operationId": operation_id})
    assert gone.status_code == 404
    assert gone.json()["code"] == 5
    assert client.get(f"/operations/{operation_id}").status_code == 404
