from __future__ import annotations

from typing import Any

import pytest

from asyncstt.errors import ErrorInfo
from asyncstt.operation import ApiVersion, Progress
from asyncstt.recognition import Transcript, Utterance, Word
from tests.factories import v2_chunk, v2_word
from tests.support.contract_cases import CALLER
from tests.support.stored_operations import claimed, queued
from tests.unit.http.conftest import SERVICE_ACCOUNT, Harness

V2_RESPONSE = "type.googleapis.com/yandex.cloud.ai.stt.v2.LongRunningRecognitionResponse"


def get(harness: Harness, operation_id: str, headers: dict[str, str] | None = None) -> Any:
    return harness.client.get(
        f"/operations/{operation_id}", headers=harness.headers if headers is None else headers
    )


def test_running_operation_shows_progress(harness: Harness) -> None:
    operation = claimed(harness, ApiVersion.V2)
    harness.clock.advance(3)
    progress = Progress(processed_seconds=3.5, total_seconds=11.0, stage="recognising")
    assert harness.store.set_progress(operation.id, "worker", progress, harness.clock())
    response = get(harness, operation.id)
    assert response.status_code == 200
    assert response.json() == {
        "done": False,
        "metadata": {
            "@type": "type.googleapis.com/asyncstt.v1.RecognitionProgress",
            "processedSeconds": 3.5,
            "totalSeconds": 11.0,
            "stage": "recognising",
        },
        "id": operation.id,
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": SERVICE_ACCOUNT,
        "modifiedAt": "2025-03-02T10:15:11Z",
    }


def test_finished_two_channel_operation(harness: Harness) -> None:
    operation = claimed(harness, ApiVersion.V2)
    utterances = (
        Utterance(0, 0.42, 0.86, (Word("good", 0.42, 0.86),), "good", "Good."),
        Utterance(1, 2.9, 3.15, (Word("twelve", 2.9, 3.15, 0.5),), "twelve", "12", confidence=0.75),
    )
    harness.clock.advance(33)
    transcript = Transcript(utterances=utterances, channels=2, duration_seconds=4.0)
    assert harness.store.finish(operation.id, "worker", harness.clock(), result=transcript)
    response = get(harness, operation.id)
    assert response.json() == {
        "done": True,
        "response": {
            "@type": V2_RESPONSE,
            "chunks": [
                v2_chunk("1", "Good.", [v2_word("good", "0.420s", "0.860s")]),
                v2_chunk("2", "12", [v2_word("twelve", "2.900s", "3.150s", 0.5)], 0.75),
            ],
        },
        "id": operation.id,
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": SERVICE_ACCOUNT,
        "modifiedAt": "2025-03-02T10:15:41Z",
    }


def test_finished_without_speech(harness: Harness) -> None:
    operation = claimed(harness, ApiVersion.V2)
    harness.clock.advance(4)
    assert harness.store.finish(operation.id, "worker", harness.clock(), result=Transcript())
    response = get(harness, operation.id)
    assert response.content == (
        b'{"done":true,"response":{"@type":"'
        + V2_RESPONSE.encode()
        + b'"},"id":"'
        + operation.id.encode()
        + b'","createdAt":"2025-03-02T10:15:07Z","createdBy":"'
        + SERVICE_ACCOUNT.encode()
        + b'","modifiedAt":"2025-03-02T10:15:12Z"}'
    )


def test_failed_operation_is_http_200_with_error(harness: Harness) -> None:
    operation = claimed(harness, ApiVersion.V2)
    harness.clock.advance(1)
    error = ErrorInfo(3, "audio could not be decoded as OGG_OPUS")
    assert harness.store.finish(operation.id, "worker", harness.clock(), error=error)
    response = get(harness, operation.id)
    assert response.status_code == 200
    assert response.json() == {
        "done": True,
        "error": {"code": 3, "message": "audio could not be decoded as OGG_OPUS", "details": []},
        "id": operation.id,
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": SERVICE_ACCOUNT,
        "modifiedAt": "2025-03-02T10:15:09Z",
    }


def test_v3_operation_is_served_here_too(harness: Harness) -> None:
    operation = queued(harness)
    body = get(harness, operation.id).json()
    assert body["description"] == "STT v3 async recognition"
    assert body["done"] is False


def _not_found(response: Any, operation_id: str) -> None:
    assert response.status_code == 404
    body = response.json()
    assert (body["code"], body["message"]) == (5, f"operation {operation_id} not found")


def test_another_folders_operation_is_404_like_a_missing_one(harness: Harness) -> None:
    operation = queued(harness, ApiVersion.V2)
    _not_found(get(harness, operation.id, harness.other_headers), operation.id)
    _not_found(get(harness, "e03doesnotexist00000"), "e03doesnotexist00000")
    for method in ("GET", "POST"):
        response = harness.client.request(
            method, f"/operations/{operation.id}:cancel", headers=harness.other_headers
        )
        _not_found(response, operation.id)
    assert not harness.service.get(CALLER, operation.id).done


def test_malformed_id_is_404(harness: Harness) -> None:
    _not_found(get(harness, "e03-x:y"), "e03-x:y")


def test_operations_need_credentials(harness: Harness) -> None:
    operation = queued(harness, ApiVersion.V2)
    response = get(harness, operation.id, headers={})
    assert (response.status_code, response.json()["code"]) == (401, 16)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_cancel_queued_operation(harness: Harness, method: str) -> None:
    operation = queued(harness, ApiVersion.V2)
    harness.clock.advance(2)
    response = harness.client.request(
        method, f"/operations/{operation.id}:cancel", headers=harness.headers
    )
    assert response.status_code == 200
    assert response.json() == {
        "done": True,
        "error": {"code": 1, "message": "cancelled", "details": []},
        "id": operation.id,
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": SERVICE_ACCOUNT,
        "modifiedAt": "2025-03-02T10:15:09Z",
    }
    assert get(harness, operation.id).json() == response.json()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_cancel_running_operation_is_requested(harness: Harness, method: str) -> None:
    operation = claimed(harness, ApiVersion.V2)
    response = harness.client.request(
        method, f"/operations/{operation.id}:cancel", headers=harness.headers
    )
    assert response.status_code == 200
    assert response.json()["done"] is False
    stored = harness.store.get(operation.id)
    assert stored is not None
    assert stored.cancel_requested


def test_cancel_finished_operation_returns_it_unchanged(harness: Harness) -> None:
    operation = claimed(harness, ApiVersion.V2)
    assert harness.store.finish(operation.id, "worker", harness.clock(), result=Transcript())
    before = get(harness, operation.id).json()
    harness.clock.advance(60)
    response = harness.client.post(f"/operations/{operation.id}:cancel", headers=harness.headers)
    assert response.json() == before


def test_deleted_operation_is_404(harness: Harness) -> None:
    operation = queued(harness, ApiVersion.V2)
    harness.service.delete(CALLER, operation)
    _not_found(get(harness, operation.id), operation.id)
