"""The client's side of the IAM tests: requests to every endpoint with given credentials, and checks of the
answers."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt

PUBLIC_TOKEN_URL = "https://iam.api.cloud.yandex.net/iam/v1/tokens"  # noqa: S105 (a URL)
DONE_TIMEOUT = 150.0


def jfk_v2_body(reference_audio: Path, folder_id: str = "") -> dict[str, Any]:
    config: dict[str, Any] = {
        "specification": {
            "languageCode": "en-US",
            "model": "general",
            "audioEncoding": "LINEAR16_PCM",
            "sampleRateHertz": "16000",
        }
    }
    if folder_id:
        config["folderId"] = folder_id
    content = base64.b64encode((reference_audio / "jfk.wav").read_bytes()).decode()
    return {"config": config, "audio": {"content": content}}


def jfk_v3_body(reference_audio: Path) -> dict[str, Any]:
    return {
        "uri": (reference_audio / "jfk.wav").resolve().as_uri(),
        "recognitionModel": {
            "model": "general",
            "audioFormat": {"containerAudio": {"containerAudioType": "WAV"}},
            "languageRestriction": {"restrictionType": "WHITELIST", "languageCode": ["en-US"]},
        },
    }


def submit_v2(
    http: httpx.Client, headers: dict[str, str], reference_audio: Path, folder_id: str = ""
) -> httpx.Response:
    return http.post(
        "/speech/stt/v2/longRunningRecognize",
        json=jfk_v2_body(reference_audio, folder_id),
        headers=headers,
    )


def submit_v3(
    http: httpx.Client, headers: dict[str, str], reference_audio: Path, folder_id: str = ""
) -> httpx.Response:
    extra = {"x-folder-id": folder_id} if folder_id else {}
    return http.post(
        "/stt/v3/recognizeFileAsync",
        json=jfk_v3_body(reference_audio),
        headers={**headers, **extra},
    )


def operation_id(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["done"] is False, body
    identifier: str = body["id"]
    return identifier


def assert_status(response: httpx.Response, http_status: int, code: int, *fragments: str) -> None:
    """The answer is the given HTTP status with a google.rpc.Status body of `code` naming every fragment."""
    assert response.status_code == http_status, (
        f"{response.request.method} {response.request.url.path}: "
        f"{response.status_code} {response.text[:500]}"
    )
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    for fragment in fragments:
        assert fragment.lower() in body["message"].lower(), (fragment, body)
    assert body["details"][0]["requestId"] == response.headers["x-request-id"], body


def endpoint_calls(
    reference_audio: Path, v2_id: str, v3_id: str
) -> list[tuple[str, Callable[[httpx.Client, dict[str, str]], httpx.Response]]]:
    """Every endpoint of the API, each as (name, call with these headers)."""
    return [
        ("v2 submit", lambda h, hd: submit_v2(h, hd, reference_audio)),
        ("v3 submit", lambda h, hd: submit_v3(h, hd, reference_audio)),
        ("get v2", lambda h, hd: h.get(f"/operations/{v2_id}", headers=hd)),
        ("get v3", lambda h, hd: h.get(f"/operations/{v3_id}", headers=hd)),
        ("cancel GET", lambda h, hd: h.get(f"/operations/{v3_id}:cancel", headers=hd)),
        ("cancel POST", lambda h, hd: h.post(f"/operations/{v2_id}:cancel", headers=hd)),
        (
            "getRecognition",
            lambda h, hd: h.get(
                "/stt/v3/getRecognition", params={"operationId": v3_id}, headers=hd
            ),
        ),
        (
            "deleteRecognition",
            lambda h, hd: h.delete(
                "/stt/v3/deleteRecognition", params={"operationId": v3_id}, headers=hd
            ),
        ),
    ]


def operation_calls(
    operation: str,
) -> list[tuple[str, Callable[[httpx.Client, dict[str, str]], httpx.Response]]]:
    """Every endpoint that reads or changes an existing operation."""
    return [
        ("get", lambda h, hd: h.get(f"/operations/{operation}", headers=hd)),
        ("cancel GET", lambda h, hd: h.get(f"/operations/{operation}:cancel", headers=hd)),
        ("cancel POST", lambda h, hd: h.post(f"/operations/{operation}:cancel", headers=hd)),
        (
            "getRecognition",
            lambda h, hd: h.get(
                "/stt/v3/getRecognition", params={"operationId": operation}, headers=hd
            ),
        ),
        (
            "deleteRecognition",
            lambda h, hd: h.delete(
                "/stt/v3/deleteRecognition", params={"operationId": operation}, headers=hd
            ),
        ),
    ]


def wait_done(
    http: httpx.Client, identifier: str, headers: dict[str, str], timeout: float = DONE_TIMEOUT
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = http.get(f"/operations/{identifier}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["done"]:
            return body
        time.sleep(0.4)
    raise AssertionError(f"operation {identifier} not done after {timeout} s")


def v2_text(operation: dict[str, Any]) -> str:
    assert "error" not in operation, operation
    return " ".join(c["alternatives"][0]["text"] for c in operation["response"]["chunks"])


def v3_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    texts = []
    for line in response.content.splitlines():
        result = json.loads(line)["result"]
        if "final" in result:
            texts.append(result["final"]["alternatives"][0]["text"])
    return " ".join(texts)


def sign_jwt(
    private_pem: str,
    kid: str,
    iss: str,
    aud: str = PUBLIC_TOKEN_URL,
    iat: float | None = None,
    lifetime: float = 3600,
    algorithm: str = "PS256",
) -> str:
    issued = time.time() if iat is None else iat
    claims = {"iss": iss, "aud": aud, "iat": int(issued), "exp": int(issued + lifetime)}
    return jwt.encode(claims, private_pem, algorithm=algorithm, headers={"typ": "JWT", "kid": kid})


def exchange(http: httpx.Client, token: str) -> httpx.Response:
    """`POST /iam/v1/tokens` as the SDKs send it: no credentials, only the JWT."""
    return http.post("/iam/v1/tokens", json={"jwt": token})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
