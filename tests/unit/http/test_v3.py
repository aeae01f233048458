from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from asyncstt.errors import ErrorInfo
from asyncstt.operation import ApiVersion, OperationState
from asyncstt.recognition import AudioEncoding, RecognitionSpec, Transcript
from asyncstt.settings import LimitSettings
from asyncstt.wire.v3 import session_uuid
from tests.support.contract_cases import (
    EN_ONLY,
    URI,
    V3_DETECTION_ALLOWED,
    V3_DETECTION_BLOCKED,
    V3_FTP_LINK,
    V3_REFUSALS,
    V3_RESTRICTION_REFUSALS,
    V3_WITHOUT_AUDIO,
    v3_body,
)
from tests.support.stored_operations import claimed, finished, queued
from tests.support.twins import MULTILINGUAL
from tests.unit.http.conftest import (
    FOLDER,
    SERVICE_ACCOUNT,
    Harness,
)

SUBMIT = "/stt/v3/recognizeFileAsync"
GET = "/stt/v3/getRecognition"
DELETE = "/stt/v3/deleteRecognition"
PROGRESS = "type.googleapis.com/asyncstt.v1.RecognitionProgress"


def submit(harness: Harness, request: dict[str, Any] | bytes, **headers: str) -> Any:
    content = request if isinstance(request, bytes) else json.dumps(request).encode()
    return harness.client.post(SUBMIT, content=content, headers={**harness.headers, **headers})


def assert_status(response: Any, http: int, code: int, message: str | None = None) -> str:
    assert response.status_code == http, response.text
    error = response.json()
    assert error["code"] == code
    assert error["details"][0]["requestId"] == response.headers["x-request-id"]
    if message is not None:
        assert error["message"] == message
    text: str = error["message"]
    return text


def recognition(harness: Harness, operation_id: str, param: str = "operationId") -> Any:
    return harness.client.get(GET, params={param: operation_id}, headers=harness.headers)


# --- recognizeFileAsync -------------------------------------------------------------------------------


def test_submit_returns_a_v3_operation(harness: Harness) -> None:
    request = v3_body(
        recognitionModel={
            "model": "deferred-general",
            "audioFormat": {"containerAudio": {"containerAudioType": "WAV"}},
            "textNormalization": {
                "textNormalization": "TEXT_NORMALIZATION_ENABLED",
                "profanityFilter": True,
                "literatureText": True,
            },
            "languageRestriction": EN_ONLY,
        }
    )
    response = submit(harness, request, **{"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    operation = response.json()
    # The vendor's example shows "metadata": null; ours carries progress (decisions.md, Operations).
    assert operation == {
        "done": False,
        "metadata": {
            "@type": PROGRESS,
            "processedSeconds": 0,
            "totalSeconds": 0,
            "stage": "queued",
        },
        "id": operation["id"],
        "description": "STT v3 async recognition",
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": SERVICE_ACCOUNT,
        "modifiedAt": "2025-03-02T10:15:07Z",
    }
    assert operation["id"].startswith("f8d")
    assert len(operation["id"]) == 20
    stored = harness.store.get(operation["id"])
    assert stored is not None
    assert (stored.api, stored.folder_id, stored.source_uri) == (ApiVersion.V3, FOLDER, URI)
    assert stored.spec == RecognitionSpec(
        language="en-US",
        model="deferred-general",
        audio_encoding=AudioEncoding.WAV,
        profanity_filter=True,
        literature_text=True,
        phone_formatting=True,
    )


def test_inline_content_snake_case(harness: Harness) -> None:
    audio = bytes(range(64))
    request = {
        "content": base64.b64encode(audio).decode(),
        "recognition_model": {
            "audio_format": {
                "raw_audio": {"audio_encoding": "LINEAR16_PCM", "sample_rate_hertz": "16000"}
            },
            "language_restriction": {"restriction_type": "WHITELIST", "language_code": ["EN-us"]},
        },
    }
    response = submit(harness, request)
    assert response.status_code == 200, response.text
    operation_id = response.json()["id"]
    stored = harness.store.get(operation_id)
    assert stored is not None
    assert stored.spec.audio_encoding is AudioEncoding.LINEAR16_PCM
    assert (stored.spec.language, stored.spec.sample_rate_hertz) == ("en-US", 16000)
    assert stored.spec.raw_results
    assert harness.store.inline_audio(operation_id) == audio


def test_inline_content_over_the_limit(make_harness: Any) -> None:
    harness = make_harness(limits=LimitSettings(max_inline_bytes=200_000))
    request = v3_body(content=base64.b64encode(b"\0" * 300_000).decode())
    del request["uri"]
    message = assert_status(submit(harness, request), 400, 3)
    assert message.startswith("inline content is 0.3 MB; the limit is 0.2 MB")


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        *V3_REFUSALS,
        (
            v3_body(
                recognitionModel={"audioFormat": {"containerAudio": {"containerAudioType": "AAC"}}}
            ),
            'recognitionModel.audioFormat.containerAudio.containerAudioType: unknown value "AAC"; '
            "use one of: WAV, OGG_OPUS, MP3",
        ),
        V3_WITHOUT_AUDIO,
        V3_FTP_LINK,
        (b"not json", None),
    ],
)
def test_submit_refusals_are_400_code_3(
    harness: Harness, request_body: dict[str, Any] | bytes, message: str | None
) -> None:
    assert_status(submit(harness, request_body), 400, 3, message)


def test_submit_needs_credentials(harness: Harness) -> None:
    response = harness.client.post(SUBMIT, json=v3_body())
    assert_status(response, 401, 16)


def test_single_usable_candidate_becomes_the_language(harness: Harness) -> None:
    request = v3_body(recognitionModel={"languageRestriction": {"languageCode": ["auto", "en-us"]}})
    response = submit(harness, request)
    assert response.status_code == 200, response.text
    stored = harness.store.get(response.json()["id"])
    assert stored is not None
    assert (stored.spec.language, stored.spec.language_candidates) == ("en-US", ())


def test_no_restriction_gets_the_default_language(make_harness: Any) -> None:
    harness = make_harness(default_language="en-US")
    response = submit(harness, {"uri": URI})
    assert response.status_code == 200, response.text
    stored = harness.store.get(response.json()["id"])
    assert stored is not None
    assert stored.spec.language == "en-US"
    assert stored.spec.audio_encoding is AudioEncoding.AUTO


@pytest.fixture
def multilingual(make_harness: Callable[..., Harness]) -> Harness:
    """A harness whose engine knows three languages and detects among them."""
    return make_harness(capabilities=MULTILINGUAL)


@pytest.mark.parametrize(
    ("restriction", "language", "candidates"),
    [
        *V3_DETECTION_ALLOWED,
        (
            {"restrictionType": "WHITELIST", "languageCode": ["auto", "ru-RU", "de-DE"]},
            "auto",
            ("ru-RU", "de-DE"),
        ),
        *V3_DETECTION_BLOCKED,
    ],
)
def test_language_detection_candidates(
    multilingual: Harness,
    restriction: dict[str, Any] | None,
    language: str,
    candidates: tuple[str, ...],
) -> None:
    model = {} if restriction is None else {"languageRestriction": restriction}
    response = submit(multilingual, {"uri": URI, "recognitionModel": model})
    assert response.status_code == 200, response.text
    stored = multilingual.store.get(response.json()["id"])
    assert stored is not None
    assert (stored.spec.language, stored.spec.language_candidates) == (language, candidates)


@pytest.mark.parametrize(("restriction", "message"), V3_RESTRICTION_REFUSALS)
def test_language_restriction_refusals(
    multilingual: Harness, restriction: dict[str, Any], message: str
) -> None:
    response = submit(
        multilingual, {"uri": URI, "recognitionModel": {"languageRestriction": restriction}}
    )
    assert_status(response, 400, 3, message)


# --- getRecognition -----------------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["operationId", "operation_id"])
def test_get_recognition_streams_result_lines(harness: Harness, param: str) -> None:
    operation = finished(harness)
    response = recognition(harness, operation.id, param)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.content.endswith(b"\n")
    lines = [json.loads(line) for line in response.content.splitlines()]
    assert len(lines) == 4 * 3
    assert all(set(line) == {"result"} for line in lines)
    events = [
        next(k for k in ("final", "finalRefinement", "eouUpdate") if k in line["result"])
        for line in lines
    ]
    assert events == ["final", "finalRefinement", "eouUpdate"] * 4
    assert [line["result"]["channelTag"] for line in lines] == ["0"] * 3 + ["1"] * 3 + ["0"] * 3 + [
        "1"
    ] * 3
    for line in lines:
        result = line["result"]
        assert result["sessionUuid"] == {
            "uuid": session_uuid(operation.id),
            "userRequestId": operation.id,
        }
        assert int(result["responseWallTimeMs"]) >= 0
        assert result["audioCursors"]["receivedDataMs"] == "4000"
    assert lines[1]["result"]["finalRefinement"]["normalizedText"]["alternatives"][0]["text"] == (
        "0: привет мир"
    )
    assert lines[0]["result"]["final"]["alternatives"][0]["text"] == "привет мир привет"


def test_silence_is_an_empty_body(harness: Harness) -> None:
    operation = finished(harness, Transcript(duration_seconds=5.0))
    response = recognition(harness, operation.id)
    assert response.status_code == 200
    assert response.content == b""


def test_running_operation_is_failed_precondition(harness: Harness) -> None:
    operation = queued(harness)
    assert_status(
        recognition(harness, operation.id), 400, 9, f"operation {operation.id} is not done yet"
    )
    harness.clock.advance(1)
    assert harness.store.claim("worker", 30, harness.clock()) is not None
    assert_status(recognition(harness, operation.id), 400, 9)


@pytest.mark.parametrize(
    ("error", "http"),
    [
        (ErrorInfo(5, "the object acme-calls/call-0002.wav does not exist"), 404),
        (ErrorInfo(3, "the file is not audio"), 400),
        (ErrorInfo(7, "the storage refused access"), 403),
        (ErrorInfo(13, "the engine failed 3 times"), 500),
        (ErrorInfo(42, "something new"), 500),
    ],
)
def test_failed_operation_answers_its_own_error(
    harness: Harness, error: ErrorInfo, http: int
) -> None:
    operation = claimed(harness)
    assert harness.store.finish(operation.id, "worker", harness.clock(), error=error)
    response = recognition(harness, operation.id)
    assert_status(
        response,
        http,
        error.code if error.code != 42 else 13,
        f"operation {operation.id} failed: {error.message}",
    )


def test_cancelled_operation_answers_cancelled(harness: Harness) -> None:
    operation = queued(harness)
    cancelled = harness.client.post(f"/operations/{operation.id}:cancel", headers=harness.headers)
    assert cancelled.json()["error"]["code"] == 1
    assert_status(
        recognition(harness, operation.id), 499, 1, f"operation {operation.id} failed: cancelled"
    )


def test_unknown_other_folder_and_expired_are_404(harness: Harness) -> None:
    operation = finished(harness)
    assert_status(
        recognition(harness, "f8dnosuchoperation00"),
        404,
        5,
        "operation f8dnosuchoperation00 not found",
    )
    response = harness.client.get(
        GET, params={"operationId": operation.id}, headers=harness.other_headers
    )
    assert_status(response, 404, 5, f"operation {operation.id} not found")
    assert_status(recognition(harness, "../../etc/passwd"), 404, 5)
    harness.clock.advance(3 * 24 * 3600)
    assert_status(recognition(harness, operation.id), 404, 5, f"operation {operation.id} not found")


@pytest.mark.parametrize(
    "params", [{}, {"operationId": ""}, {"operationId": "  "}, {"operationid": "x"}]
)
def test_missing_operation_id_is_400(harness: Harness, params: dict[str, str]) -> None:
    response = harness.client.get(GET, params=params, headers=harness.headers)
    assert_status(response, 400, 3, "the query parameter operationId is required")
    response = harness.client.delete(DELETE, params=params, headers=harness.headers)
    assert_status(response, 400, 3, "the query parameter operationId is required")


def test_get_recognition_needs_credentials(harness: Harness) -> None:
    operation = finished(harness)
    assert_status(harness.client.get(GET, params={"operationId": operation.id}), 401, 16)


def test_finished_v3_operation_carries_an_empty_response(harness: Harness) -> None:
    operation = finished(harness)
    polled = harness.client.get(f"/operations/{operation.id}", headers=harness.headers).json()
    assert polled["done"] is True
    assert polled["response"] == {"@type": "type.googleapis.com/google.protobuf.Empty"}
    assert polled["description"] == "STT v3 async recognition"


# --- deleteRecognition --------------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["operationId", "operation_id"])
def test_delete_then_everything_is_404(harness: Harness, param: str) -> None:
    operation = finished(harness)
    response = harness.client.delete(DELETE, params={param: operation.id}, headers=harness.headers)
    assert response.status_code == 200
    assert response.json() == {}
    assert harness.store.get(operation.id) is None
    assert_status(recognition(harness, operation.id), 404, 5)
    polled = harness.client.get(f"/operations/{operation.id}", headers=harness.headers)
    assert_status(polled, 404, 5)
    again = harness.client.delete(DELETE, params={param: operation.id}, headers=harness.headers)
    assert_status(again, 404, 5)


def test_delete_another_folders_operation_is_404_and_keeps_it(harness: Harness) -> None:
    operation = finished(harness)
    response = harness.client.delete(
        DELETE, params={"operationId": operation.id}, headers=harness.other_headers
    )
    assert_status(response, 404, 5, f"operation {operation.id} not found")
    stored = harness.store.get(operation.id)
    assert stored is not None
    assert stored.state is OperationState.SUCCEEDED
