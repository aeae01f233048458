"""What `Client` puts on the wire and how it reads answers that are not the server's own: recorded with
httpx's MockTransport."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from asyncstt.client import Client, ClientError
from tests.unit.client.conftest import wav_bytes

OPERATION = {"done": False, "id": "f8dabc", "description": "STT v3 async recognition"}


def recording(
    answer: Callable[[httpx.Request], httpx.Response] | None = None,
) -> tuple[list[httpx.Request], httpx.Client]:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answer(request) if answer is not None else httpx.Response(200, json=OPERATION)

    return requests, httpx.Client(transport=httpx.MockTransport(handle))


def test_an_api_key_and_a_folder_go_in_the_headers() -> None:
    requests, http = recording()
    with (
        http,
        Client("http://stt.test/", api_key="AQVN-key", folder_id="b1gf", http=http) as client,
    ):
        client.get("f8dabc")
        client.submit_link("s3://b/a.wav", api="v2", idempotency_key="once")
    get, submit = requests
    assert str(get.url) == "http://stt.test/operations/f8dabc"
    assert get.headers["authorization"] == "Api-Key AQVN-key"
    assert get.headers["x-folder-id"] == "b1gf"
    assert str(submit.url) == "http://stt.test/speech/stt/v2/longRunningRecognize"
    assert submit.headers["idempotency-key"] == "once"
    assert json.loads(submit.content) == {
        "config": {
            "specification": {"model": "general"},
            "folderId": "b1gf",
        },
        "audio": {"uri": "s3://b/a.wav"},
    }


def test_an_iam_token_is_a_bearer_token() -> None:
    requests, http = recording()
    with http, Client("http://stt.test", iam_token="t1.token", http=http) as client:  # noqa: S106
        client.cancel("f8dabc")
    assert requests[0].method == "POST"
    assert str(requests[0].url) == "http://stt.test/operations/f8dabc:cancel"
    assert requests[0].headers["authorization"] == "Bearer t1.token"
    assert "x-folder-id" not in requests[0].headers


def test_both_credentials_at_once_are_refused() -> None:
    with pytest.raises(ClientError) as refused:
        Client("http://stt.test", api_key="k", iam_token="t")  # noqa: S106
    assert refused.value.code == 3


def test_a_v3_file_is_sent_as_base64_content_with_its_container(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    path.write_bytes(wav_bytes(0.01))
    requests, http = recording()
    with http, Client("http://stt.test", http=http) as client:
        client.submit_file(path, language="ru-RU")
    assert "authorization" not in requests[0].headers
    assert json.loads(requests[0].content) == {
        "content": base64.b64encode(path.read_bytes()).decode(),
        "recognitionModel": {
            "model": "general",
            "audioFormat": {"containerAudio": {"containerAudioType": "WAV"}},
            "textNormalization": {"textNormalization": "TEXT_NORMALIZATION_ENABLED"},
            "languageRestriction": {"restrictionType": "WHITELIST", "languageCode": ["ru-RU"]},
        },
    }


def test_delete_and_the_v3_result_name_the_operation_in_the_query() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/operations/f8dabc":
            return httpx.Response(200, json={**OPERATION, "done": True})
        return httpx.Response(200, content=b"" if request.method == "GET" else b"{}")

    requests, http = recording(answer)
    with http, Client("http://stt.test", http=http) as client:
        assert client.result("f8dabc").transcript.utterances == ()
        client.delete("f8dabc")
    assert [(r.method, str(r.url)) for r in requests] == [
        ("GET", "http://stt.test/operations/f8dabc"),
        ("GET", "http://stt.test/stt/v3/getRecognition?operationId=f8dabc"),
        ("DELETE", "http://stt.test/stt/v3/deleteRecognition?operationId=f8dabc"),
    ]


@pytest.mark.parametrize(
    ("status", "body", "code", "message"),
    [
        (502, b"<html>Bad Gateway</html>", 14, "<html>Bad Gateway</html>"),
        (429, b"", 8, "the server answered HTTP 429"),
        (418, b'{"error": "teapot"}', 2, '{"error": "teapot"}'),
        (500, b'{"code": 13, "message": "internal error; id 7"}', 13, "internal error; id 7"),
    ],
)
def test_answers_without_a_status_body_get_a_code_from_the_http_status(
    status: int, body: bytes, code: int, message: str
) -> None:
    _, http = recording(lambda _: httpx.Response(status, content=body))
    with http, Client("http://stt.test", http=http) as client, pytest.raises(ClientError) as error:
        client.get("f8dabc")
    assert (error.value.code, error.value.message, error.value.http_status) == (
        code,
        message,
        status,
    )


def test_an_answer_that_is_not_an_operation_is_data_loss() -> None:
    _, http = recording(lambda _: httpx.Response(200, content=b"[1, 2]"))
    with http, Client("http://stt.test", http=http) as client, pytest.raises(ClientError) as error:
        client.get("f8dabc")
    assert error.value.code == 15


def test_an_unreachable_server_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    _, http = recording(refuse)
    with http, Client("http://stt.test", http=http) as client, pytest.raises(ClientError) as error:
        client.get("f8dabc")
    assert (error.value.code, error.value.http_status) == (14, None)
    assert error.value.message.startswith("cannot reach http://stt.test")


def test_a_request_that_times_out_is_deadline_exceeded() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    _, http = recording(slow)
    with http, Client("http://stt.test", http=http) as client, pytest.raises(ClientError) as error:
        client.get("f8dabc")
    assert error.value.code == 4
