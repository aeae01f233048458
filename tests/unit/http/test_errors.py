from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from asyncstt.errors import PermissionDenied, ResourceExhausted
from asyncstt.http.errors import error_response, status_body
from tests.unit.http.conftest import Harness

PATH = "/speech/stt/v2/longRunningRecognize"
REQUEST_INFO = "type.googleapis.com/google.rpc.RequestInfo"


def submit_uri(harness: Harness, uri: str) -> Any:
    body = f'{{"config": {{"specification": {{"languageCode": "en-US"}}}}, "audio": {{"uri": "{uri}"}}}}'
    return harness.client.post(PATH, content=body.encode(), headers=harness.headers)


def _request_id(response: Any) -> str:
    rid: str = response.headers["x-request-id"]
    uuid.UUID(rid)
    return rid


def test_status_body_shape() -> None:
    assert status_body(16, "The token is invalid", "6f1c2d9e") == {
        "code": 16,
        "message": "The token is invalid",
        "details": [{"@type": REQUEST_INFO, "requestId": "6f1c2d9e"}],
    }


def test_error_response_maps_the_code_to_http() -> None:
    response = error_response(PermissionDenied("no"), "rid")
    assert response.status_code == 403
    assert response.headers["x-request-id"] == "rid"
    assert "retry-after" not in response.headers


def test_quota_errors_carry_retry_after(harness: Harness) -> None:
    harness.sources.failures["s3://quota/x"] = ResourceExhausted(
        "too many requests", retry_after_seconds=7
    )
    response = submit_uri(harness, "s3://quota/x")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json() == {
        "code": 8,
        "message": "too many requests",
        "details": [{"@type": REQUEST_INFO, "requestId": _request_id(response)}],
    }


def test_unknown_path_is_404_code_5(harness: Harness) -> None:
    response = harness.client.get("/speech/stt/v1/recognize", headers=harness.headers)
    assert response.status_code == 404
    assert response.json() == {
        "code": 5,
        "message": "no such path: /speech/stt/v1/recognize",
        "details": [{"@type": REQUEST_INFO, "requestId": _request_id(response)}],
    }


def test_wrong_method_is_405_code_12(harness: Harness) -> None:
    response = harness.client.get(PATH, headers=harness.headers)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    body = response.json()
    assert (body["code"], body["message"]) == (12, f"method GET is not allowed on {PATH}")
    assert body["details"][0]["requestId"] == _request_id(response)


def test_unexpected_exception_is_500_code_13_logged_with_the_id(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.sources.failures["s3://bug/x"] = RuntimeError("boom")
    with caplog.at_level(logging.ERROR, logger="asyncstt.http.errors"):
        response = submit_uri(harness, "s3://bug/x")
    assert response.status_code == 500
    rid = _request_id(response)
    assert response.json() == {
        "code": 13,
        "message": f"internal error; it was logged under error id {rid}",
        "details": [{"@type": REQUEST_INFO, "requestId": rid}],
    }
    assert "boom" not in response.text
    [record] = caplog.records
    assert rid in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


def test_every_response_has_a_fresh_request_id(harness: Harness) -> None:
    first = harness.client.get("/health")
    second = harness.client.post(PATH, content=b"{}", headers=harness.headers)
    assert _request_id(first) != _request_id(second)
    assert second.json()["details"][0]["requestId"] == second.headers["x-request-id"]


def test_client_request_id_is_echoed_when_harmless(harness: Harness) -> None:
    response = harness.client.get("/health", headers={"x-client-request-id": "f8d4q1n7-c2v9"})
    assert response.headers["x-client-request-id"] == "f8d4q1n7-c2v9"
    assert response.headers["x-request-id"] != "f8d4q1n7-c2v9"


def test_odd_client_request_id_is_not_echoed(harness: Harness) -> None:
    response = harness.client.get("/health", headers={"x-client-request-id": "a b<script>"})
    assert "x-client-request-id" not in response.headers


def test_health_needs_no_credentials(harness: Harness) -> None:
    response = harness.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_document_renders(harness: Harness) -> None:
    paths = harness.client.get("/openapi.json").json()["paths"]
    assert set(paths["/operations/{operation_id}:cancel"]) == {"get", "post"}
    assert "/speech/stt/v2/longRunningRecognize" in paths
