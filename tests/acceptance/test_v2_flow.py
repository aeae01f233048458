"""v2 longRunningRecognize + Operation API against a real `asyncstt serve` process."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.acceptance.conftest import wait_done
from tests.support.audio import read_wav_mono, write_wav
from tests.support.serve import ServeProcess
from tests.support.wer import JFK_REFERENCE, LIBRIVOX, librivox_reference, word_errors

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

DURATION = re.compile(r"^\d+(\.\d+)?s$")
LIBRIVOX_NAME = "sense_and_sensibility_01_austen_64kb-0870"


def submit(
    client: httpx.Client, specification: dict[str, Any], audio: dict[str, str]
) -> dict[str, Any]:
    response = client.post(
        "/speech/stt/v2/longRunningRecognize",
        json={"config": {"specification": specification}, "audio": audio},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["done"] is False
    assert set(body) >= {"id", "createdAt", "createdBy", "modifiedAt", "done"}
    return body


def channel_text(operation: dict[str, Any], tag: str) -> str:
    assert "error" not in operation, operation
    chunks = operation["response"].get("chunks", [])
    return " ".join(c["alternatives"][0]["text"] for c in chunks if c["channelTag"] == tag)


def assert_chunk_shape(operation: dict[str, Any]) -> None:
    response = operation["response"]
    assert (
        response["@type"]
        == "type.googleapis.com/yandex.cloud.ai.stt.v2.LongRunningRecognitionResponse"
    )
    for chunk in response["chunks"]:
        assert isinstance(chunk["channelTag"], str)
        (alternative,) = chunk["alternatives"]
        assert alternative["text"]
        assert 0.0 <= alternative["confidence"] <= 1.0
        for word in alternative["words"]:
            assert DURATION.match(word["startTime"])
            assert DURATION.match(word["endTime"])
            assert float(word["startTime"][:-1]) <= float(word["endTime"][:-1])
            assert 0.0 <= word["confidence"] <= 1.0
            assert word["word"] == word["word"].lower()


def test_official_batch_client_flow_with_presigned_link(
    client: httpx.Client, s3_server: Any, reference_audio: Path
) -> None:
    """The vendor's batch example: WAV sent as LINEAR16_PCM, string int64, pre-signed link, form content type."""
    s3_server.put("calls", "input/jfk.wav", reference_audio / "jfk.wav")
    body = {
        "config": {
            "specification": {
                "languageCode": "en-US",
                "audioEncoding": "LINEAR16_PCM",
                "sampleRateHertz": "48000",
            }
        },
        "audio": {"uri": s3_server.presigned_get("calls", "input/jfk.wav")},
    }
    response = client.post(
        "/speech/stt/v2/longRunningRecognize",
        content=json.dumps(body),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    operation = wait_done(client, response.json()["id"])
    assert_chunk_shape(operation)
    text = " ".join(
        chunk["alternatives"][0]["text"]
        for chunk in operation["response"]["chunks"]
        if chunk["channelTag"] == "1"
    )
    assert word_errors(text, JFK_REFERENCE) <= 1, text
    assert operation["modifiedAt"] >= operation["createdAt"]


def test_stereo_channels_are_recognised_separately(
    client: httpx.Client, s3_server: Any, reference_audio: Path, tmp_path: Path
) -> None:
    left = read_wav_mono(reference_audio / "jfk.wav")
    right = read_wav_mono(LIBRIVOX / f"{LIBRIVOX_NAME}.wav")
    length = max(len(left), len(right))
    channels = [np.pad(x, (0, length - len(x))) for x in (left, right)]
    stereo = tmp_path / "stereo.wav"
    write_wav(stereo, channels, 16000)
    s3_server.put("calls", "stereo.wav", stereo)
    operation = wait_done(
        client, submit(client, {"languageCode": "en-US"}, {"uri": "s3://calls/stereo.wav"})["id"]
    )
    assert_chunk_shape(operation)
    assert {c["channelTag"] for c in operation["response"]["chunks"]} == {"1", "2"}
    assert word_errors(channel_text(operation, "1"), JFK_REFERENCE) <= 1
    assert word_errors(channel_text(operation, "2"), librivox_reference(LIBRIVOX_NAME)) <= 3
    starts = [
        (float(c["alternatives"][0]["words"][0]["startTime"][:-1]), c["channelTag"])
        for c in operation["response"]["chunks"]
    ]
    assert starts == sorted(starts)


def test_ogg_opus_by_file_link(client: httpx.Client, audio_fixtures: Any) -> None:
    uri = Path(audio_fixtures.jfk_ogg).resolve().as_uri()
    operation = wait_done(
        client,
        submit(client, {"languageCode": "en-US", "audioEncoding": "OGG_OPUS"}, {"uri": uri})["id"],
    )
    assert word_errors(channel_text(operation, "1"), JFK_REFERENCE) <= 1


def test_mp3_inline_content(client: httpx.Client, audio_fixtures: Any) -> None:
    content = base64.b64encode(Path(audio_fixtures.jfk_mp3).read_bytes()).decode()
    operation = wait_done(
        client,
        submit(client, {"languageCode": "en-us", "audioEncoding": "MP3"}, {"content": content})[
            "id"
        ],
    )
    assert word_errors(channel_text(operation, "1"), JFK_REFERENCE) <= 1


def test_raw_lpcm_8k(client: httpx.Client, audio_fixtures: Any) -> None:
    uri = Path(audio_fixtures.jfk_lpcm_8k).resolve().as_uri()
    spec = {
        "languageCode": "en-US",
        "audioEncoding": "LINEAR16_PCM",
        "sampleRateHertz": 8000,
        "audioChannelCount": 1,
    }
    operation = wait_done(client, submit(client, spec, {"uri": uri})["id"])
    assert word_errors(channel_text(operation, "1"), JFK_REFERENCE) <= 2


def test_literature_text_and_words_keep_spoken_form(
    client: httpx.Client, audio_fixtures: Any
) -> None:
    uri = Path(audio_fixtures.jfk_wav).resolve().as_uri()
    spec = {"languageCode": "en-US", "literature_text": True}
    operation = wait_done(client, submit(client, spec, {"uri": uri})["id"])
    text = channel_text(operation, "1")
    assert text[0].isupper()
    assert any(mark in text for mark in ",.")
    words = [
        w["word"] for c in operation["response"]["chunks"] for w in c["alternatives"][0]["words"]
    ]
    assert all(re.fullmatch(r"[\w']+", w) for w in words), words


def test_silence_gives_no_chunks_key(client: httpx.Client, audio_fixtures: Any) -> None:
    uri = Path(audio_fixtures.silence_wav).resolve().as_uri()
    operation = wait_done(client, submit(client, {"languageCode": "en-US"}, {"uri": uri})["id"])
    assert operation["response"] == {
        "@type": "type.googleapis.com/yandex.cloud.ai.stt.v2.LongRunningRecognitionResponse"
    }


def _silence_wav(path: Path, seconds: float) -> Path:
    write_wav(path, [np.zeros(int(seconds * 16000), dtype=np.float32)], 16000)
    return path


@pytest.mark.parametrize(
    ("case", "code", "needle"),
    [
        ("too_long", 3, "limit"),
        ("too_big", 3, "limit"),
        ("three_channels", 3, "channels"),
        ("not_audio", 3, "audio"),
        ("truncated", 3, "decod"),
        ("missing_object", 5, "not found"),
    ],
)
def test_processing_failures_end_the_operation(
    client: httpx.Client,
    s3_server: Any,
    audio_fixtures: Any,
    tmp_path: Path,
    case: str,
    code: int,
    needle: str,
) -> None:
    files = {
        "too_long": lambda: _silence_wav(tmp_path / "long.wav", 45),
        "too_big": lambda: _silence_wav(tmp_path / "big.wav", 100),
        "three_channels": lambda: Path(audio_fixtures.three_channel_wav),
        "not_audio": lambda: Path(audio_fixtures.not_audio),
        "truncated": lambda: Path(audio_fixtures.truncated_ogg),
    }
    if case in files:
        s3_server.put("limits", f"{case}.bin", files[case]())
    encoding = "OGG_OPUS" if case in ("truncated", "not_audio") else "LINEAR16_PCM"
    operation = wait_done(
        client,
        submit(
            client,
            {"languageCode": "en-US", "audioEncoding": encoding},
            {"uri": f"s3://limits/{case}.bin"},
        )["id"],
    )
    assert operation["done"] is True
    assert "response" not in operation
    assert operation["error"]["code"] == code, operation["error"]
    assert needle in operation["error"]["message"].lower(), operation["error"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "json"),
        (
            b'{"config": {"specification": {"audioEncoding": "FLAC9"}}, "audio": {"uri": "s3://a/b"}}',
            "audioencoding",
        ),
        (b'{"config": {}, "audio": {}}', "uri"),
        (b'{"config": {}, "audio": {"uri": "ftp://example.com/a.wav"}}', "ftp"),
        (
            b'{"config": {"specification": {"model": "turbo"}}, "audio": {"uri": "s3://a/b"}}',
            "model",
        ),
        (
            b'{"config": {"specification": {"languageCode": "ru-RU"}}, "audio": {"uri": "s3://a/b"}}',
            "en-us",
        ),
        (
            b'{"config": {"specification": {"languageCode": "en-US", "audioEncoding": "LINEAR16_PCM", "sampleRateHertz": 44100}}, "audio": {"uri": "s3://a/b"}}',
            "44100",
        ),
        (
            b'{"config": {"specification": {"languageCode": "en-US", "audioEncoding": "LINEAR16_PCM", "audioChannelCount": 3}}, "audio": {"uri": "s3://a/b"}}',
            "channel",
        ),
        (
            b'{"config": {"specification": {"languageCode": "en-US"}}, "audio": {"content": "'
            + base64.b64encode(bytes(1100 * 1024))
            + b'"}}',
            "limit",
        ),
    ],
)
def test_request_problems_are_400(client: httpx.Client, body: bytes, needle: str) -> None:
    response = client.post("/speech/stt/v2/longRunningRecognize", content=body)
    assert response.status_code == 400, response.text
    status = response.json()
    assert status["code"] == 3
    assert needle in status["message"].lower(), status
    assert status["details"][0]["@type"] == "type.googleapis.com/google.rpc.RequestInfo"


def test_credentials_and_folders(
    server: ServeProcess, client: httpx.Client, audio_fixtures: Any
) -> None:
    with server.client(api_key="") as anonymous:
        assert anonymous.get("/operations/e03aaaaaaaaaaaaaaaaa").json()["code"] == 16
    with server.client(api_key="AQVNnot-a-key") as wrong:
        response = wrong.get("/operations/e03aaaaaaaaaaaaaaaaa")
        assert response.status_code == 401
        assert response.json()["code"] == 16
    uri = Path(audio_fixtures.jfk_wav).resolve().as_uri()
    operation = submit(client, {"languageCode": "en-US"}, {"uri": uri})
    other_key = server.create_key(folder="other-folder", account="sa-other")
    with server.client(api_key=other_key) as other:
        response = other.get(f"/operations/{operation['id']}")
        assert response.status_code == 404
        assert response.json()["code"] == 5
        assert other.post(f"/operations/{operation['id']}:cancel").status_code == 404
    response = client.get("/operations/e03doesnotexist00000")
    assert response.status_code == 404
    assert response.json()["code"] == 5
    wait_done(client, operation["id"])


def test_cancel_and_metadata(
    client: httpx.Client, tmp_path: Path, s3_server: Any, reference_audio: Path
) -> None:
    jfk = read_wav_mono(reference_audio / "jfk.wav")
    write_wav(tmp_path / "long.wav", [np.tile(jfk, 3)], 16000)
    s3_server.put("cancel", "long.wav", tmp_path / "long.wav")
    operation = submit(
        client,
        {"languageCode": "en-US", "model": "deferred-general"},
        {"uri": "s3://cancel/long.wav"},
    )
    response = client.get(f"/operations/{operation['id']}:cancel")
    assert response.status_code == 200, response.text
    finished = wait_done(client, operation["id"])
    assert finished["error"] == {"code": 1, "message": "cancelled", "details": []}
    again = client.post(f"/operations/{operation['id']}:cancel")
    assert again.status_code == 200
    assert again.json()["done"] is True


def test_progress_metadata_while_running(
    client: httpx.Client, tmp_path: Path, s3_server: Any, reference_audio: Path
) -> None:
    jfk = read_wav_mono(reference_audio / "jfk.wav")
    write_wav(tmp_path / "three.wav", [np.tile(jfk, 3)], 16000)
    s3_server.put("progress", "three.wav", tmp_path / "three.wav")
    operation = submit(client, {"languageCode": "en-US"}, {"uri": "s3://progress/three.wav"})
    seen: list[dict[str, Any]] = []
    body: dict[str, Any] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(f"/operations/{operation['id']}").json()
        if body["done"]:
            break
        if "metadata" in body:
            seen.append(body["metadata"])
        time.sleep(0.1)
    assert body["done"]
    assert "response" in body
    assert any(
        m.get("@type") == "type.googleapis.com/asyncstt.v1.RecognitionProgress" for m in seen
    ), seen
    assert word_errors(channel_text(body, "1"), " ".join([JFK_REFERENCE] * 3)) <= 3
