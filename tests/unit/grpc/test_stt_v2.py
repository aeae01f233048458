"""`yandex.cloud.ai.stt.v2.SttService` over gRPC: the twins of REST's longRunningRecognize tests
(tests/unit/http/test_v2.py).

Each request is the REST test's body as the official message (`json_format.ParseDict`, inline audio as bytes);
it must give the same result and the same code and message. JSON-syntax refusals have no twin: a gRPC request
has no JSON. An encoding name the enum lacks cannot be sent over gRPC; a number it lacks takes its place.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from yandex.cloud.ai.stt.v2 import stt_service_pb2 as v2
from yandex.cloud.ai.stt.v2 import stt_service_pb2_grpc as v2_grpc
from yandex.cloud.operation.operation_pb2 import Operation as OperationPb
from yandex.cloud.operation.operation_service_pb2 import GetOperationRequest
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from asyncstt.operation import ApiVersion, OperationState
from asyncstt.recognition import AudioEncoding, RecognitionSpec
from asyncstt.settings import LimitSettings, QuotaSettings
from asyncstt.wire.progress import TYPE_URL as PROGRESS
from asyncstt.wire.v2 import render_v2_response
from tests.factories import CONTRACT_SPECIFICATION, CONTRACT_URI, make_transcript, v2_request
from tests.unit.grpc.conftest import (
    FOLDER,
    OTHER_FOLDER,
    SERVICE_ACCOUNT,
    GrpcHarness,
    Metadata,
    refused,
)

CREATED = 1740910507  # 2025-03-02T10:15:07Z, the harness's START


def request(
    spec: dict[str, Any] | None = None, audio: dict[str, Any] | None = None, **config: Any
) -> v2.LongRunningRecognitionRequest:
    """REST's body asking for en-US, the one installed language unless `spec` names another, as the message."""
    body = json.loads(v2_request({"languageCode": "en-US", **(spec or {})}, audio, **config))
    message = v2.LongRunningRecognitionRequest()
    json_format.ParseDict(body, message)
    return message


def inline(content: bytes, **spec: Any) -> v2.LongRunningRecognitionRequest:
    message = request(spec)
    message.audio.content = content
    return message


def submit(
    harness: GrpcHarness,
    message: v2.LongRunningRecognitionRequest,
    metadata: Metadata | None = None,
) -> OperationPb:
    stub = harness.stub(v2_grpc.SttServiceStub)
    answer: OperationPb = stub.LongRunningRecognize(
        message, metadata=harness.metadata if metadata is None else metadata
    )
    return answer


def assert_status(
    call: Callable[[], object], code: grpc.StatusCode, text: str | None = None
) -> str:
    error = refused(call)
    assert error.code() is code
    details = error.details()
    assert details is not None
    if text is not None:
        assert details == text
    return details


def test_contract_submit_returns_the_operation_shape(grpc_harness: GrpcHarness) -> None:
    operation = submit(grpc_harness, request({**CONTRACT_SPECIFICATION, "languageCode": "en-US"}))
    assert json_format.MessageToDict(operation) == {
        "id": operation.id,
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": SERVICE_ACCOUNT,
        "modifiedAt": "2025-03-02T10:15:07Z",
        "metadata": {"@type": PROGRESS, "stage": "queued"},
    }
    assert not operation.done
    assert operation.description == ""
    assert operation.id.startswith("e03")
    stored = grpc_harness.store.get(operation.id)
    assert stored is not None
    assert (stored.api, stored.folder_id, stored.state) == (
        ApiVersion.V2,
        FOLDER,
        OperationState.QUEUED,
    )
    assert stored.source_uri == CONTRACT_URI
    assert stored.spec == RecognitionSpec(
        language="en-US",
        audio_encoding=AudioEncoding.LINEAR16_PCM,
        sample_rate_hertz=8000,
        audio_channel_count=2,
        literature_text=True,
    )


def test_inline_content_is_kept_with_the_operation(grpc_harness: GrpcHarness) -> None:
    audio = b"OggS\x00\x02" + bytes(100)
    operation = submit(grpc_harness, inline(audio))
    assert grpc_harness.store.inline_audio(operation.id) == audio


def test_minimal_request_takes_the_default_language(grpc_harness: GrpcHarness) -> None:
    minimal = v2.LongRunningRecognitionRequest(audio=v2.RecognitionAudio(uri="s3://b/k.ogg"))
    stored = grpc_harness.store.get(submit(grpc_harness, minimal).id)
    assert stored is not None
    assert stored.spec.language == "en-US"
    assert stored.spec.audio_encoding is AudioEncoding.OGG_OPUS


@pytest.mark.parametrize(
    ("message", "text"),
    [
        (
            request({"audioEncoding": 9}),
            "config.specification.audioEncoding: unknown audio encoding 9; "
            "use LINEAR16_PCM, OGG_OPUS or MP3",
        ),
        (
            request(audio={}),
            "the request needs audio.uri (a link to the audio) or audio.content",
        ),
        (request(audio={"uri": ""}), "audio.uri is empty"),
        (inline(b""), "audio.content is empty"),
        (
            request(audio={"uri": "ftp://host/file.ogg"}),
            "links like ftp://host/file.ogg are not supported",
        ),
        (
            request({"model": "hqa"}),
            "model hqa is not known; use one of: general, general:rc, general:deprecated, "
            "deferred-general, deferred-general:rc, deferred-general:deprecated",
        ),
        (request({"languageCode": "ru-RU"}), "language ru-RU is not installed; installed: en-US"),
        (request({"languageCode": "klingon"}), "language klingon is not known; installed: en-US"),
        (
            request({"languageCode": "auto"}),
            "language auto is not available: the installed model (fake) cannot detect languages; "
            "name one of: en-US",
        ),
        (
            request({"audioEncoding": "LINEAR16_PCM", "sampleRateHertz": 44100}),
            "sample rate 44100 Hz is not allowed for LINEAR16_PCM; use 8000, 16000, 48000",
        ),
        (
            request({"audioEncoding": "LINEAR16_PCM", "audioChannelCount": 3}),
            "audio channel count 3 is not allowed; use 1 to 2",
        ),
    ],
)
def test_bad_requests_are_invalid_argument_with_the_rest_message(
    grpc_harness: GrpcHarness, message: v2.LongRunningRecognitionRequest, text: str
) -> None:
    assert_status(lambda: submit(grpc_harness, message), grpc.StatusCode.INVALID_ARGUMENT, text)
    assert grpc_harness.store.claim("w", 30, grpc_harness.clock()) is None, "nothing was queued"


def test_inline_content_over_the_limit(make_grpc: Callable[..., GrpcHarness]) -> None:
    harness = make_grpc(limits=LimitSettings(max_inline_bytes=1024**2))
    text = assert_status(
        lambda: submit(harness, inline(bytes(1024**2 + 200_000))),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert text.startswith("inline content is 1.2 MB; the limit is 1 MB; put the file in a bucket")


def test_own_folder_id_is_accepted(grpc_harness: GrpcHarness) -> None:
    operation = submit(grpc_harness, request(folderId=FOLDER))
    assert operation.created_by == SERVICE_ACCOUNT
    stored = grpc_harness.store.get(operation.id)
    assert stored is not None
    assert (stored.folder_id, stored.created_by) == (FOLDER, SERVICE_ACCOUNT)


def test_another_folder_id_is_permission_denied(grpc_harness: GrpcHarness) -> None:
    assert_status(
        lambda: submit(grpc_harness, request(folderId="b1gsomeoneelse")),
        grpc.StatusCode.PERMISSION_DENIED,
        f"service account {SERVICE_ACCOUNT} has no role ai.speechkit-stt.user on folder b1gsomeoneelse",
    )


def test_x_folder_id_is_not_read_as_over_rest(grpc_harness: GrpcHarness) -> None:
    """v2 names its folder in `config.folder_id`; REST's longRunningRecognize reads no x-folder-id either."""
    metadata = (*grpc_harness.metadata, ("x-folder-id", OTHER_FOLDER))
    stored = grpc_harness.store.get(submit(grpc_harness, request(), metadata).id)
    assert stored is not None
    assert stored.folder_id == FOLDER


@pytest.mark.parametrize(
    ("authorization", "text"),
    [
        (None, "missing Authorization header; send 'Api-Key <API key>' or 'Bearer <IAM token>'"),
        ("Api-Key AQVNaje00000000000000000.nope", "the API key is invalid, revoked or expired"),
        ("Api-Key garbage", "the API key is invalid, revoked or expired"),
        ("Bearer t1.forged.token", "the IAM token is invalid"),
        (
            "Basic dXNlcjpwYXNz",
            "the Authorization header must be 'Api-Key <API key>' or 'Bearer <IAM token>'",
        ),
    ],
)
def test_bad_credentials_are_unauthenticated(
    grpc_harness: GrpcHarness, authorization: str | None, text: str
) -> None:
    metadata: Metadata = () if authorization is None else (("authorization", authorization),)
    assert_status(
        lambda: submit(grpc_harness, request(), metadata), grpc.StatusCode.UNAUTHENTICATED, text
    )


@pytest.mark.parametrize("scheme", ["Api-key", "api-key", "Bearer"])
def test_scheme_spellings(grpc_harness: GrpcHarness, scheme: str) -> None:
    key = grpc_harness.metadata[0][1].split(" ", 1)[1]
    operation = submit(grpc_harness, request(), (("authorization", f"{scheme} {key}"),))
    assert operation.created_by == SERVICE_ACCOUNT
    stored = grpc_harness.store.get(operation.id)
    assert stored is not None
    assert (stored.folder_id, stored.created_by) == (FOLDER, SERVICE_ACCOUNT)


def test_without_required_auth_the_caller_is_anonymous(
    make_grpc: Callable[..., GrpcHarness],
) -> None:
    harness = make_grpc(auth_required=False)
    operation = submit(harness, request(folderId="b1gfromthevendordocs"), ())
    assert operation.created_by == "anonymous"
    stored = harness.store.get(operation.id)
    assert stored is not None
    assert stored.folder_id == "default"


def test_an_idempotency_key_returns_the_same_operation(grpc_harness: GrpcHarness) -> None:
    metadata = (*grpc_harness.metadata, ("idempotency-key", "call-0001"))
    first = submit(grpc_harness, request(), metadata)
    assert submit(grpc_harness, request(), metadata) == first
    other = request({"model": "deferred-general"})
    assert_status(
        lambda: submit(grpc_harness, other, metadata),
        grpc.StatusCode.INVALID_ARGUMENT,
        "Idempotency-Key call-0001 was used with a different request; "
        "send a new key with a new request",
    )
    assert submit(grpc_harness, request()).id != first.id


def test_refused_submits_spend_no_quota(make_grpc: Callable[..., GrpcHarness]) -> None:
    harness = make_grpc(quotas=QuotaSettings(submits_per_hour=2))
    for _ in range(3):
        assert_status(
            lambda: submit(harness, request(folderId=OTHER_FOLDER)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
        assert_status(
            lambda: submit(harness, request({"languageCode": "xx-XX"})),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    submit(harness, request())
    submit(harness, request())
    text = assert_status(lambda: submit(harness, request()), grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert "2 recognition requests per hour" in text


def test_the_finished_operation_packs_the_long_running_recognition_response(
    grpc_harness: GrpcHarness,
) -> None:
    operation = submit(grpc_harness, request())
    grpc_harness.clock.advance(1)
    assert grpc_harness.store.claim("worker", 30, grpc_harness.clock()) is not None
    transcript = make_transcript(3, 4)
    assert grpc_harness.store.finish(
        operation.id, "worker", grpc_harness.clock(), result=transcript
    )
    polled = grpc_harness.stub(OperationServiceStub).Get(
        GetOperationRequest(operation_id=operation.id), metadata=grpc_harness.metadata
    )
    assert polled.done
    response = v2.LongRunningRecognitionResponse()
    assert polled.response.Unpack(response)
    assert response == render_v2_response(transcript)
    assert [chunk.channel_tag for chunk in response.chunks] == [1, 2, 1, 2]


def test_streaming_recognition_is_unimplemented(grpc_harness: GrpcHarness) -> None:
    stub = grpc_harness.stub(v2_grpc.SttServiceStub)
    assert_status(
        lambda: list(
            stub.StreamingRecognize(
                iter([v2.StreamingRecognitionRequest()]), metadata=grpc_harness.metadata
            )
        ),
        grpc.StatusCode.UNIMPLEMENTED,
        "streaming recognition is not served by this server; use LongRunningRecognize",
    )
