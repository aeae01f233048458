"""SpeechKit's released Python SDKs against a real `asyncstt serve` over gRPC, set up as a user would for the
public service but for the endpoint (and a self-signed certificate to trust).

Two servers serve this module: one over TLS (both SDKs; yandexcloud speaks nothing else), one in plaintext
(yandex-ai-studio-sdk's `verify=False`). Each hands out `localhost:PORT` in endpoint discovery, the name the
certificate carries and the address yandexcloud signs its JWT audience for.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from yandex.cloud.ai.stt.v2 import stt_service_pb2 as v2
from yandex.cloud.ai.stt.v2 import stt_service_pb2_grpc as v2_grpc
from yandex.cloud.ai.stt.v3 import stt_pb2, stt_service_pb2, stt_service_pb2_grpc
from yandex.cloud.operation import operation_service_pb2, operation_service_pb2_grpc
from yandex_ai_studio_sdk import AIStudio
from yandexcloud._sdk import SDK  # the package re-exports it without __all__

from asyncstt.server.process import free_port
from tests.support.audio import read_channels, to_int16
from tests.support.environment import child_environment
from tests.support.serve import ServeProcess
from tests.support.tls import SelfSigned, self_signed
from tests.support.wer import JFK_REFERENCE, word_errors

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.slow,
    # yandexcloud's own operation waiter builds the interceptor it deprecates; users see the same warning.
    pytest.mark.filterwarnings(
        "ignore:Call to deprecated class RetryInterceptor:DeprecationWarning"
    ),
]

#: Per call; both SDKs wait for a server that is not up yet (ai-studio's `wait_for_ready`) up to this long.
CALL_TIMEOUT = 30.0
#: The whole wait for one recognition of jfk.wav (11 s of audio; a few seconds on one worker).
DONE_TIMEOUT = 120.0
#: ai-studio polls every 10 s by default; a test need not wait that long between polls.
POLL_INTERVAL = 0.5
_KEY_LINE = re.compile(
    r"created API key \S+ for service account (?P<account>\S+) in folder (?P<folder>\S+)"
)


@dataclass(frozen=True)
class Door:
    """One server's gRPC door and the identity the tests call it as."""

    server: ServeProcess
    #: `localhost:PORT`: what the SDKs are given as `endpoint=` and discovery hands out.
    endpoint: str
    tls: SelfSigned | None
    api_key: str
    account_id: str
    folder_id: str


def admin(server: ServeProcess, *args: str) -> str:
    """`asyncstt <args> --data-dir …` against the server's store, as an operator runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "asyncstt.cli", *args, "--data-dir", str(server.data_dir)],
        env=server.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, f"asyncstt {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def open_door(root: Path, tls: SelfSigned | None) -> Door:
    """Start a server whose gRPC door serves TLS with `tls`, or plaintext, and give it an API key."""
    grpc_port = free_port()
    endpoint = f"localhost:{grpc_port}"
    args = ["--grpc-public-address", endpoint]
    if tls is not None:
        args += ["--grpc-tls-cert", str(tls.cert), "--grpc-tls-key", str(tls.key)]
    server = ServeProcess(
        data_dir=root / "data",
        env=child_environment({"ASYNCSTT_EXECUTION__LOCAL_WORKERS": "1"}),
        args=args,
        grpc_port=grpc_port,
    )
    server.data_dir.mkdir(parents=True)
    created = admin(server, "keys", "create", "--folder", "grpc", "--service-account", "sa-grpc")
    found = _KEY_LINE.search(created)
    assert found is not None, created
    server.api_key = created.strip().splitlines()[-1]
    door = Door(
        server, endpoint, tls, server.api_key, found.group("account"), found.group("folder")
    )
    try:
        server.start()
        wait_serving(door)
    except BaseException:
        server.stop()
        raise
    return door


def channel(door: Door) -> grpc.Channel:
    if door.tls is None:
        return grpc.insecure_channel(door.endpoint)
    return grpc.secure_channel(
        door.endpoint, grpc.ssl_channel_credentials(root_certificates=door.tls.cert_pem)
    )


def wait_serving(door: Door) -> None:
    """REST answers before the gRPC door has started: wait for the door's own health service."""
    with channel(door) as open_channel:
        answer = health_pb2_grpc.HealthStub(open_channel).Check(
            health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT, wait_for_ready=True
        )
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


@dataclass(frozen=True)
class Doors:
    tls: Door
    plaintext: Door


@pytest.fixture(scope="module")
def doors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Doors]:
    certificate = self_signed(tmp_path_factory.mktemp("tls"))
    with ThreadPoolExecutor(2) as pool:
        starting = [
            pool.submit(open_door, tmp_path_factory.mktemp("grpc-tls"), certificate),
            pool.submit(open_door, tmp_path_factory.mktemp("grpc-plaintext"), None),
        ]
    try:
        tls, plaintext = (future.result() for future in starting)
        yield Doors(tls, plaintext)
    finally:
        for future in starting:
            if future.exception() is None:
                future.result().server.stop()


@pytest.fixture(scope="module")
def jfk_wav(reference_audio: Path) -> bytes:
    return (reference_audio / "jfk.wav").read_bytes()


# --- yandex-ai-studio-sdk, with an API key ---------------------------------------------------------------


def ai_studio_result(door: Door, verify: bool | str, wav: bytes) -> tuple[str, Any]:
    """jfk.wav through the documented deferred flow: run_deferred, wait; the operation's id and its result."""
    sdk = AIStudio(
        folder_id=door.folder_id, endpoint=door.endpoint, auth=door.api_key, verify=verify
    )
    stt = sdk.speechkit.speech_to_text(audio_format="WAV", language_codes="en-US")
    operation = stt.run_deferred(wav, timeout=CALL_TIMEOUT)
    assert operation.id.startswith("f8d"), operation.id
    result = operation.wait(
        timeout=CALL_TIMEOUT, poll_interval=POLL_INTERVAL, poll_timeout=int(DONE_TIMEOUT)
    )
    return operation.id, result


def test_ai_studio_sdk_over_tls(doors: Doors, jfk_wav: bytes) -> None:
    door = doors.tls
    assert door.tls is not None
    _, result = ai_studio_result(door, str(door.tls.cert), jfk_wav)
    assert word_errors(result.text, JFK_REFERENCE) <= 1, result.text


def test_ai_studio_sdk_in_plaintext_and_its_delete(doors: Doors, jfk_wav: bytes) -> None:
    door = doors.plaintext
    operation_id, result = ai_studio_result(door, False, jfk_wav)
    assert word_errors(result.text, JFK_REFERENCE) <= 1, result.text

    result.delete()
    with channel(door) as open_channel, pytest.raises(grpc.RpcError) as refused:
        list(
            stt_service_pb2_grpc.AsyncRecognizerStub(open_channel).GetRecognition(
                stt_service_pb2.GetRecognitionRequest(operation_id=operation_id),
                metadata=(("authorization", f"Api-Key {door.api_key}"),),
                timeout=CALL_TIMEOUT,
            )
        )
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND, refused.value


# --- yandexcloud, with an authorized key ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def cloud(doors: Doors, tmp_path_factory: pytest.TempPathFactory) -> SDK:
    """The yandexcloud SDK signed in with the service account's authorized key file, over TLS."""
    door = doors.tls
    assert door.tls is not None
    key_path = tmp_path_factory.mktemp("sa") / "sa-key.json"
    out = admin(
        door.server,
        "keys",
        "authorized",
        "create",
        "--account",
        door.account_id,
        "--output",
        str(key_path),
    )
    assert str(key_path) in out, out
    key: dict[str, str] = json.loads(key_path.read_text())
    return SDK(endpoint=door.endpoint, service_account_key=key, root_certificates=door.tls.cert_pem)


def finished(cloud: SDK, operation: Any, response_type: Any = None) -> Any:
    """Wait with the SDK's own helper, then check the operation is done: the helper returns quietly when its
    timeout passes."""
    result: Any = cloud.wait_operation_and_get_result(
        operation, response_type=response_type, timeout=DONE_TIMEOUT
    )
    latest = cloud.client(operation_service_pb2_grpc.OperationServiceStub).Get(
        operation_service_pb2.GetOperationRequest(operation_id=operation.id), timeout=CALL_TIMEOUT
    )
    assert latest.done, latest
    assert not latest.HasField("error"), latest
    return result


def test_yandexcloud_sdk_v3_recognize_file(doors: Doors, cloud: SDK, jfk_wav: bytes) -> None:
    recognizer = cloud.client(stt_service_pb2_grpc.AsyncRecognizerStub)
    request = stt_pb2.RecognizeFileRequest(content=jfk_wav)
    model = request.recognition_model
    model.model = "general"
    model.audio_format.container_audio.container_audio_type = stt_pb2.ContainerAudio.WAV
    model.language_restriction.restriction_type = stt_pb2.LanguageRestrictionOptions.WHITELIST
    model.language_restriction.language_code.append("en-US")
    operation = recognizer.RecognizeFile(request, timeout=CALL_TIMEOUT)
    assert not operation.done, operation

    finished(cloud, operation)
    finals = [
        response
        for response in recognizer.GetRecognition(
            stt_service_pb2.GetRecognitionRequest(operation_id=operation.id),
            timeout=CALL_TIMEOUT,
        )
        if response.HasField("final")
    ]
    assert finals, "no final results"
    assert all(response.session_uuid.uuid for response in finals), finals
    text = " ".join(response.final.alternatives[0].text for response in finals)
    assert word_errors(text, JFK_REFERENCE) <= 1, text


def test_yandexcloud_sdk_v2_long_running_recognize(
    doors: Doors, cloud: SDK, reference_audio: Path
) -> None:
    (samples,), rate = read_channels(reference_audio / "jfk.wav")
    pcm = to_int16(samples).tobytes()
    specification = v2.RecognitionSpec(
        language_code="en-US",
        model="general",
        audio_encoding=v2.RecognitionSpec.LINEAR16_PCM,
        sample_rate_hertz=rate,
        audio_channel_count=1,
    )
    request = v2.LongRunningRecognitionRequest(
        config=v2.RecognitionConfig(specification=specification, folder_id=doors.tls.folder_id),
        audio=v2.RecognitionAudio(content=pcm),
    )
    operation = cloud.client(v2_grpc.SttServiceStub).LongRunningRecognize(
        request, timeout=CALL_TIMEOUT
    )
    assert not operation.done, operation

    result = finished(cloud, operation, v2.LongRunningRecognitionResponse)
    chunks = result.response.chunks
    assert chunks, result.response
    assert {chunk.channel_tag for chunk in chunks} == {1}, chunks
    text = " ".join(chunk.alternatives[0].text for chunk in chunks)
    assert word_errors(text, JFK_REFERENCE) <= 1, text
