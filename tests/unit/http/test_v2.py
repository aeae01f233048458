from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from asyncstt.operation import OperationState
from asyncstt.recognition import AudioEncoding, RecognitionSpec
from asyncstt.settings import LimitSettings
from tests.factories import CONTRACT_SPECIFICATION, CONTRACT_URI, v2_request
from tests.unit.http.conftest import FOLDER, SERVICE_ACCOUNT, Harness

PATH = "/speech/stt/v2/longRunningRecognize"
PROGRESS = "type.googleapis.com/asyncstt.v1.RecognitionProgress"


def request(
    spec: dict[str, Any] | None = None, audio: dict[str, Any] | None = None, **config: Any
) -> bytes:
    """A body asking for en-US, the one installed language, unless `spec` names another."""
    return v2_request({"languageCode": "en-US", **(spec or {})}, audio, **config)


def submit(harness: Harness, body: bytes, **headers: str) -> Any:
    return harness.client.post(PATH, content=body, headers={**harness.headers, **headers})


def test_contract_submit_returns_the_operation_shape(harness: Harness) -> None:
    body = request({**CONTRACT_SPECIFICATION, "languageCode": "en-US"})
    response = submit(harness, body, **{"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    operation = response.json()
    assert operation == {
        "done": False,
        "metadata": {
            "@type": PROGRESS,
            "processedSeconds": 0,
            "totalSeconds": 0,
            "stage": "queued",
        },
        "id": operation["id"],
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": SERVICE_ACCOUNT,
        "modifiedAt": "2025-03-02T10:15:07Z",
    }
    assert operation["id"].startswith("e03")
    assert b'"done":false,' in response.content, "compact JSON with done present"
    stored = harness.store.get(operation["id"])
    assert stored is not None
    assert stored.folder_id == FOLDER
    assert stored.state is OperationState.QUEUED
    assert stored.source_uri == CONTRACT_URI
    assert stored.spec == RecognitionSpec(
        language="en-US",
        audio_encoding=AudioEncoding.LINEAR16_PCM,
        sample_rate_hertz=8000,
        audio_channel_count=2,
        literature_text=True,
    )


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data",
    ],
)
def test_body_is_json_whatever_the_content_type(harness: Harness, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = submit(harness, request(), **headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    operation = response.json()
    assert (operation["done"], operation["createdBy"]) == (False, SERVICE_ACCOUNT)
    stored = harness.store.get(operation["id"])
    assert stored is not None
    assert (stored.folder_id, stored.source_uri) == (FOLDER, CONTRACT_URI)
    assert stored.spec.language == "en-US"


def test_snake_case_keys_and_string_int64(harness: Harness) -> None:
    body = json.dumps(
        {
            "config": {
                "specification": {
                    "language_code": "en-us",
                    "audio_encoding": "LINEAR16_PCM",
                    "sample_rate_hertz": "48000",
                    "audio_channel_count": "1",
                    "raw_results": True,
                },
                "folder_id": FOLDER,
            },
            "audio": {"uri": "s3://acme-calls/call.wav"},
        }
    ).encode()
    response = submit(harness, body)
    assert response.status_code == 200, response.text
    stored = harness.store.get(response.json()["id"])
    assert stored is not None
    assert stored.spec.sample_rate_hertz == 48000
    assert stored.spec.raw_results
    assert stored.spec.language == "en-US"


def test_inline_content_is_kept_with_the_operation(harness: Harness) -> None:
    audio = b"OggS\x00\x02" + bytes(100)
    response = submit(harness, request(audio={"content": base64.b64encode(audio).decode()}))
    assert response.status_code == 200, response.text
    operation_id = response.json()["id"]
    assert harness.store.inline_audio(operation_id) == audio


def test_minimal_body_takes_the_default_language(harness: Harness) -> None:
    response = submit(harness, b'{"config": {}, "audio": {"uri": "s3://b/k.ogg"}}')
    assert response.status_code == 200, response.text
    stored = harness.store.get(response.json()["id"])
    assert stored is not None
    assert stored.spec.language == "en-US"


def _status(response: Any) -> tuple[int, int, str]:
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.RequestInfo",
            "requestId": response.headers["x-request-id"],
        }
    ]
    return response.status_code, body["code"], body["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{bad json", "the request body is not valid JSON"),
        (b"[]", "the request body must be a JSON object"),
        (
            request({"sampleRateHertz": "abc"}),
            "config.specification.sampleRateHertz: expected an integer",
        ),
        (
            request({"literatureText": "yes"}),
            "config.specification.literatureText: expected true or false",
        ),
        (request({"audioEncoding": "FLAC"}), 'unknown audio encoding "FLAC"'),
        (request(audio={}), "the request needs audio.uri"),
        (
            request(audio={"uri": CONTRACT_URI, "content": "AAAA"}),
            "set only one of audio.uri and audio.content",
        ),
        (request(audio={"content": "%%%"}), "audio.content is not valid base64"),
        (request(audio={"content": ""}), "audio.content is empty"),
        (
            request(audio={"uri": "ftp://host/file.ogg"}),
            "links like ftp://host/file.ogg are not supported",
        ),
        (request({"model": "hqa"}), "model hqa is not known; use one of: general"),
        (request({"languageCode": "ru-RU"}), "language ru-RU is not installed; installed: en-US"),
        (request({"languageCode": "klingon"}), "language klingon is not known; installed: en-US"),
        (request({"languageCode": "auto"}), "cannot detect languages"),
        (
            request({"audioEncoding": "LINEAR16_PCM", "sampleRateHertz": 44100}),
            "sample rate 44100 Hz is not allowed for LINEAR16_PCM",
        ),
        (
            request({"audioEncoding": "LINEAR16_PCM", "audioChannelCount": 3}),
            "audio channel count 3 is not allowed; use 1 to 2",
        ),
    ],
)
def test_bad_requests_are_400_code_3(harness: Harness, body: bytes, message: str) -> None:
    status, code, text = _status(submit(harness, body))
    assert (status, code) == (400, 3)
    assert message in text
    assert harness.store.claim("w", 30, harness.clock()) is None, "nothing was queued"


def test_auto_message_names_the_model(harness: Harness) -> None:
    _, _, text = _status(submit(harness, request({"languageCode": "auto"})))
    assert text == (
        "language auto is not available: the installed model (fake) cannot detect languages; "
        "name one of: en-US"
    )


def test_inline_content_over_the_limit(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(limits=LimitSettings(max_inline_bytes=1024**2))
    content = base64.b64encode(bytes(1024**2 + 200_000)).decode()
    status, code, text = _status(submit(harness, request(audio={"content": content})))
    assert (status, code) == (400, 3)
    assert text.startswith("inline content is 1.2 MB; the limit is 1 MB; put the file in a bucket")


def test_body_far_over_any_acceptable_size_is_refused_unread(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(limits=LimitSettings(max_inline_bytes=1024))
    content = base64.b64encode(bytes(3 * 1024**2)).decode()
    status, code, text = _status(submit(harness, request(audio={"content": content})))
    assert (status, code) == (400, 3)
    assert text.startswith("the request body is over 1 MB; put the file in a bucket")


def test_body_size_is_also_enforced_without_content_length(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(limits=LimitSettings(max_inline_bytes=1024))
    chunks = [b'{"audio": {"content": "', b"A" * 800_000, b"A" * 800_000, b'"}}']
    response = harness.client.post(PATH, content=iter(chunks), headers=harness.headers)
    assert "content-length" not in response.request.headers
    status, code, text = _status(response)
    assert (status, code) == (400, 3)
    assert "the request body is over 1 MB" in text


def test_own_folder_id_is_accepted(harness: Harness) -> None:
    response = submit(harness, request(folderId=FOLDER))
    assert response.status_code == 200, response.text
    assert response.json()["createdBy"] == SERVICE_ACCOUNT
    stored = harness.store.get(response.json()["id"])
    assert stored is not None
    assert (stored.folder_id, stored.created_by, stored.state) == (
        FOLDER,
        SERVICE_ACCOUNT,
        OperationState.QUEUED,
    )


def test_another_folder_id_is_permission_denied(harness: Harness) -> None:
    status, code, text = _status(submit(harness, request(folderId="b1gsomeoneelse")))
    assert (status, code) == (403, 7)
    assert (
        text
        == f"service account {SERVICE_ACCOUNT} has no role ai.speechkit-stt.user on folder b1gsomeoneelse"
    )


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (
            None,
            "missing Authorization header; send 'Api-Key <API key>' or 'Bearer <IAM token>'",
        ),
        ("Api-Key AQVNaje00000000000000000.nope", "the API key is invalid, revoked or expired"),
        ("Api-Key garbage", "the API key is invalid, revoked or expired"),
        ("Bearer t1.forged.token", "the IAM token is invalid"),
        (
            "Basic dXNlcjpwYXNz",
            "the Authorization header must be 'Api-Key <API key>' or 'Bearer <IAM token>'",
        ),
    ],
)
def test_bad_credentials_are_401_code_16(
    harness: Harness, authorization: str | None, message: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = harness.client.post(PATH, content=request(), headers=headers)
    assert _status(response) == (401, 16, message)


def test_credentials_are_checked_before_the_body(harness: Harness) -> None:
    response = harness.client.post(PATH, content=b"{bad json")
    assert _status(response)[:2] == (401, 16)


@pytest.mark.parametrize("scheme", ["Api-key", "Bearer"])
def test_scheme_spellings(harness: Harness, scheme: str) -> None:
    key = harness.headers["Authorization"].split(" ", 1)[1]
    response = harness.client.post(
        PATH, content=request(), headers={"Authorization": f"{scheme} {key}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["createdBy"] == SERVICE_ACCOUNT
    stored = harness.store.get(response.json()["id"])
    assert stored is not None
    assert (stored.folder_id, stored.created_by) == (FOLDER, SERVICE_ACCOUNT)


def test_without_required_auth_the_caller_is_anonymous(
    make_harness: Callable[..., Harness],
) -> None:
    harness = make_harness(auth_required=False)
    response = harness.client.post(PATH, content=request(folderId="b1gfromthevendordocs"))
    assert response.status_code == 200, response.text
    assert response.json()["createdBy"] == "anonymous"
    stored = harness.store.get(response.json()["id"])
    assert stored is not None
    assert stored.folder_id == "default"
