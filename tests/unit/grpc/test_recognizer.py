"""`speechkit.stt.v3.AsyncRecognizer` over gRPC: the twins of REST's `/stt/v3/` tests (tests/unit/http/test_v3.py).

Each request is the REST test's body as the official message (`json_format.ParseDict`, inline audio as bytes);
it must give the same result and the same code and message. JSON-syntax refusals have no twin: a gRPC request
has no JSON. An enum name the type lacks cannot be sent over gRPC; an enum number it lacks takes its place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format
from yandex.cloud.ai.stt.v3 import stt_pb2, stt_service_pb2, stt_service_pb2_grpc
from yandex.cloud.operation.operation_pb2 import Operation as OperationPb
from yandex.cloud.operation.operation_service_pb2 import (
    CancelOperationRequest,
    GetOperationRequest,
)
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from asyncstt.errors import ErrorInfo
from asyncstt.operation import ApiVersion, OperationState
from asyncstt.recognition import AudioEncoding, RecognitionSpec, Transcript
from asyncstt.settings import LimitSettings, QuotaSettings
from asyncstt.wire.progress import TYPE_URL as PROGRESS
from asyncstt.wire.v3 import render_recognition, session_uuid
from tests.factories import make_transcript
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
from tests.unit.grpc.conftest import (
    FOLDER,
    OTHER_FOLDER,
    SERVICE_ACCOUNT,
    GrpcHarness,
    Metadata,
    refused,
)

CREATED = 1740910507  # 2025-03-02T10:15:07Z, the harness's START


def message(body: dict[str, Any]) -> stt_pb2.RecognizeFileRequest:
    """A REST test's body as the message a gRPC client sends."""
    request = stt_pb2.RecognizeFileRequest()
    json_format.ParseDict(body, request)
    return request


def recognizer(harness: GrpcHarness) -> stt_service_pb2_grpc.AsyncRecognizerStub:
    return harness.stub(stt_service_pb2_grpc.AsyncRecognizerStub)


def submit(
    harness: GrpcHarness, request: stt_pb2.RecognizeFileRequest, *extra: tuple[str, str]
) -> OperationPb:
    answer: OperationPb = recognizer(harness).RecognizeFile(
        request, metadata=harness.metadata + extra
    )
    return answer


def recognition(
    harness: GrpcHarness, operation_id: str, metadata: Metadata | None = None
) -> list[stt_pb2.StreamingResponse]:
    stream = recognizer(harness).GetRecognition(
        stt_service_pb2.GetRecognitionRequest(operation_id=operation_id),
        metadata=harness.metadata if metadata is None else metadata,
    )
    return list(stream)


def delete(harness: GrpcHarness, operation_id: str, metadata: Metadata | None = None) -> Any:
    return recognizer(harness).DeleteRecognition(
        stt_pb2.DeleteRecognitionRequest(operation_id=operation_id),
        metadata=harness.metadata if metadata is None else metadata,
    )


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


def nothing_queued(harness: GrpcHarness) -> bool:
    return harness.store.claim("w", 30, harness.clock()) is None


# --- RecognizeFile ------------------------------------------------------------------------------------


def test_submit_returns_a_v3_operation(grpc_harness: GrpcHarness) -> None:
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
    operation = submit(grpc_harness, message(request))
    assert operation.id.startswith("f8d")
    assert len(operation.id) == 20
    assert operation.description == "STT v3 async recognition"
    assert (operation.created_at.seconds, operation.modified_at.seconds) == (CREATED, CREATED)
    assert operation.created_by == SERVICE_ACCOUNT
    assert not operation.done
    assert operation.WhichOneof("result") is None
    assert operation.metadata.type_url == PROGRESS
    assert json_format.MessageToDict(operation)["metadata"] == {
        "@type": PROGRESS,
        "stage": "queued",
    }
    stored = grpc_harness.store.get(operation.id)
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


def test_the_sdk_request_with_empty_options_and_model_is_accepted(
    grpc_harness: GrpcHarness,
) -> None:
    """What yandex-ai-studio-sdk sends: `recognition_classifier {}` and `speaker_labeling {}` always, `model ""`."""
    audio = bytes(range(64))
    request = stt_pb2.RecognizeFileRequest(content=audio)
    model = request.recognition_model
    model.audio_format.raw_audio.audio_encoding = stt_pb2.RawAudio.LINEAR16_PCM
    model.audio_format.raw_audio.sample_rate_hertz = 16000
    model.audio_processing_type = stt_pb2.RecognitionModelOptions.FULL_DATA
    model.language_restriction.restriction_type = stt_pb2.LanguageRestrictionOptions.WHITELIST
    model.language_restriction.language_code.append("EN-us")
    request.recognition_classifier.SetInParent()
    request.speaker_labeling.SetInParent()
    operation = submit(grpc_harness, request, ("idempotency-key", "5f0c0c4e-sdk"))
    stored = grpc_harness.store.get(operation.id)
    assert stored is not None
    assert stored.spec == RecognitionSpec(
        language="en-US",
        model="general",
        audio_encoding=AudioEncoding.LINEAR16_PCM,
        sample_rate_hertz=16000,
        raw_results=True,
    )
    assert grpc_harness.store.inline_audio(operation.id) == audio


def test_inline_content_over_the_limit(make_grpc: Callable[..., GrpcHarness]) -> None:
    harness = make_grpc(limits=LimitSettings(max_inline_bytes=200_000))
    request = stt_pb2.RecognizeFileRequest(content=b"\0" * 300_000)
    text = assert_status(lambda: submit(harness, request), grpc.StatusCode.INVALID_ARGUMENT)
    assert text.startswith("inline content is 0.3 MB; the limit is 0.2 MB")


@pytest.mark.parametrize(
    ("request_body", "text"),
    [
        *V3_REFUSALS,
        (
            v3_body(
                recognitionModel={"audioFormat": {"containerAudio": {"containerAudioType": 9}}}
            ),
            "recognitionModel.audioFormat.containerAudio.containerAudioType: unknown value 9; "
            "use one of: WAV, OGG_OPUS, MP3",
        ),
        (
            v3_body(recognitionModel={"audioFormat": {"rawAudio": {"audioEncoding": 4}}}),
            "recognitionModel.audioFormat.rawAudio.audioEncoding: unknown value 4; "
            "use one of: LINEAR16_PCM",
        ),
        V3_WITHOUT_AUDIO,
        (v3_body(uri="  "), "uri is empty"),
        ({"content": ""}, "content is empty"),
        V3_FTP_LINK,
    ],
)
def test_submit_refusals_are_invalid_argument_with_the_rest_message(
    grpc_harness: GrpcHarness, request_body: dict[str, Any], text: str
) -> None:
    request = message(request_body)
    assert_status(lambda: submit(grpc_harness, request), grpc.StatusCode.INVALID_ARGUMENT, text)
    assert nothing_queued(grpc_harness)


@pytest.mark.parametrize(
    ("metadata", "text"),
    [
        ((), "missing Authorization header; send 'Api-Key <API key>' or 'Bearer <IAM token>'"),
        (
            (("authorization", "Api-Key AQVNaje00000000000000000.nope"),),
            "the API key is invalid, revoked or expired",
        ),
    ],
)
def test_submit_needs_credentials(grpc_harness: GrpcHarness, metadata: Metadata, text: str) -> None:
    stub = recognizer(grpc_harness)
    assert_status(
        lambda: stub.RecognizeFile(message(v3_body()), metadata=metadata),
        grpc.StatusCode.UNAUTHENTICATED,
        text,
    )


def test_single_usable_candidate_becomes_the_language(grpc_harness: GrpcHarness) -> None:
    request = v3_body(recognitionModel={"languageRestriction": {"languageCode": ["auto", "en-us"]}})
    stored = grpc_harness.store.get(submit(grpc_harness, message(request)).id)
    assert stored is not None
    assert (stored.spec.language, stored.spec.language_candidates) == ("en-US", ())


def test_no_restriction_gets_the_default_language(make_grpc: Callable[..., GrpcHarness]) -> None:
    harness = make_grpc(default_language="en-US")
    stored = harness.store.get(submit(harness, stt_pb2.RecognizeFileRequest(uri=URI)).id)
    assert stored is not None
    assert stored.spec.language == "en-US"
    assert stored.spec.audio_encoding is AudioEncoding.AUTO


@pytest.fixture
def multilingual(make_grpc: Callable[..., GrpcHarness]) -> GrpcHarness:
    """A harness whose engine knows three languages and detects among them."""
    return make_grpc(capabilities=MULTILINGUAL)


@pytest.mark.parametrize(
    ("restriction", "language", "candidates"), [*V3_DETECTION_ALLOWED, *V3_DETECTION_BLOCKED]
)
def test_language_detection_candidates(
    multilingual: GrpcHarness,
    restriction: dict[str, Any] | None,
    language: str,
    candidates: tuple[str, ...],
) -> None:
    model = {} if restriction is None else {"languageRestriction": restriction}
    operation = submit(multilingual, message({"uri": URI, "recognitionModel": model}))
    stored = multilingual.store.get(operation.id)
    assert stored is not None
    assert (stored.spec.language, stored.spec.language_candidates) == (language, candidates)


@pytest.mark.parametrize(("restriction", "text"), V3_RESTRICTION_REFUSALS)
def test_language_restriction_refusals(
    multilingual: GrpcHarness, restriction: dict[str, Any], text: str
) -> None:
    request = message({"uri": URI, "recognitionModel": {"languageRestriction": restriction}})
    assert_status(lambda: submit(multilingual, request), grpc.StatusCode.INVALID_ARGUMENT, text)


def test_an_idempotency_key_returns_the_same_operation(grpc_harness: GrpcHarness) -> None:
    key = ("idempotency-key", "call-0001")
    first = submit(grpc_harness, message(v3_body()), key)
    second = submit(grpc_harness, message(v3_body()), key)
    assert second == first
    assert grpc_harness.store.claim("w", 30, grpc_harness.clock()) is not None
    assert nothing_queued(grpc_harness), "the second submit queued nothing"
    other = message(v3_body(recognitionModel={"model": "deferred-general"}))
    assert_status(
        lambda: submit(grpc_harness, other, key),
        grpc.StatusCode.INVALID_ARGUMENT,
        "Idempotency-Key call-0001 was used with a different request; "
        "send a new key with a new request",
    )
    assert submit(grpc_harness, message(v3_body())).id != first.id


def test_an_idempotency_key_too_long_to_keep_is_invalid(grpc_harness: GrpcHarness) -> None:
    assert_status(
        lambda: submit(grpc_harness, message(v3_body()), ("idempotency-key", "k" * 256)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "the idempotency-key metadata is longer than 255 characters",
    )


def test_x_folder_id_names_the_folder(grpc_harness: GrpcHarness) -> None:
    operation = submit(grpc_harness, message(v3_body()), ("x-folder-id", FOLDER))
    stored = grpc_harness.store.get(operation.id)
    assert stored is not None
    assert stored.folder_id == FOLDER
    assert_status(
        lambda: submit(grpc_harness, message(v3_body()), ("x-folder-id", OTHER_FOLDER)),
        grpc.StatusCode.PERMISSION_DENIED,
        f"service account {SERVICE_ACCOUNT} has no role ai.speechkit-stt.user on folder {OTHER_FOLDER}",
    )


def test_submits_past_the_quota_are_resource_exhausted(
    make_grpc: Callable[..., GrpcHarness],
) -> None:
    harness = make_grpc(quotas=QuotaSettings(submits_per_hour=2))
    invalid = message(v3_body(recognitionModel={"model": "hqa"}))
    assert_status(lambda: submit(harness, invalid), grpc.StatusCode.INVALID_ARGUMENT)
    submit(harness, message(v3_body()))
    submit(harness, message(v3_body()))
    text = assert_status(
        lambda: submit(harness, message(v3_body())), grpc.StatusCode.RESOURCE_EXHAUSTED
    )
    assert "2 recognition requests per hour" in text


# --- GetRecognition -----------------------------------------------------------------------------------


def test_get_recognition_streams_the_rest_results(grpc_harness: GrpcHarness) -> None:
    operation = finished(grpc_harness)
    stream = recognizer(grpc_harness).GetRecognition(
        stt_service_pb2.GetRecognitionRequest(operation_id=operation.id),
        metadata=(*grpc_harness.metadata, ("x-client-request-id", "req-7")),
    )
    results = list(stream)
    assert len(results) == 4 * 3
    events = [result.WhichOneof("Event") for result in results]
    assert events == ["final", "final_refinement", "eou_update"] * 4
    assert [result.channel_tag for result in results] == ["0"] * 3 + ["1"] * 3 + ["0"] * 3 + [
        "1"
    ] * 3
    for result in results:
        assert result.session_uuid.uuid == session_uuid(operation.id)
        assert result.session_uuid.user_request_id == operation.id
        assert result.response_wall_time_ms >= 0
        assert result.audio_cursors.received_data_ms == 4000
    assert results[0].final.channel_tag == results[0].channel_tag
    assert results[0].final.alternatives[0].text == "привет мир привет"
    assert results[1].final_refinement.normalized_text.alternatives[0].text == "0: привет мир"
    for result in results:
        result.response_wall_time_ms = 0
    assert results == list(render_recognition(operation.id, make_transcript(3, 4), lambda: 0))
    assert ("x-client-request-id", "req-7") in tuple(stream.trailing_metadata() or ())


def test_the_analytics_a_request_asks_for_come_with_its_results(grpc_harness: GrpcHarness) -> None:
    request = message(
        v3_body(
            speechAnalysis={"enableSpeakerAnalysis": True, "enableConversationAnalysis": True},
            recognitionClassifier={"classifiers": [{"classifier": "profanity"}]},
        )
    )
    operation = submit(grpc_harness, request)
    grpc_harness.clock.advance(1)
    assert grpc_harness.store.claim("worker", 30, grpc_harness.clock()) is not None
    transcript = make_transcript(3, 4)
    assert grpc_harness.store.finish(
        operation.id, "worker", grpc_harness.clock(), result=transcript
    )

    events = [result.WhichOneof("Event") for result in recognition(grpc_harness, operation.id)]

    per_utterance = [
        "final",
        "final_refinement",
        "eou_update",
        "classifier_update",
        "speaker_analysis",
    ]
    assert events == per_utterance * 4 + ["speaker_analysis"] * 2 + ["conversation_analysis"]


def test_every_final_carries_its_channel_tag(grpc_harness: GrpcHarness) -> None:
    operation = finished(grpc_harness, make_transcript(2, 5))
    finals = [
        result for result in recognition(grpc_harness, operation.id) if result.final.alternatives
    ]
    assert len(finals) == 5
    for result in finals:
        assert result.channel_tag
        assert result.final.channel_tag == result.channel_tag
        alternative = result.final.alternatives[0]
        assert alternative.text
        assert alternative.end_time_ms > alternative.start_time_ms


def test_silence_is_an_empty_stream(grpc_harness: GrpcHarness) -> None:
    operation = finished(grpc_harness, Transcript(duration_seconds=5.0))
    assert recognition(grpc_harness, operation.id) == []


def test_running_operation_is_failed_precondition(grpc_harness: GrpcHarness) -> None:
    operation = queued(grpc_harness)
    assert_status(
        lambda: recognition(grpc_harness, operation.id),
        grpc.StatusCode.FAILED_PRECONDITION,
        f"operation {operation.id} is not done yet",
    )
    grpc_harness.clock.advance(1)
    assert grpc_harness.store.claim("worker", 30, grpc_harness.clock()) is not None
    assert_status(
        lambda: recognition(grpc_harness, operation.id), grpc.StatusCode.FAILED_PRECONDITION
    )


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            ErrorInfo(5, "the object acme-calls/call-0002.wav does not exist"),
            grpc.StatusCode.NOT_FOUND,
        ),
        (ErrorInfo(3, "the file is not audio"), grpc.StatusCode.INVALID_ARGUMENT),
        (ErrorInfo(7, "the storage refused access"), grpc.StatusCode.PERMISSION_DENIED),
        (ErrorInfo(13, "the engine failed 3 times"), grpc.StatusCode.INTERNAL),
        (ErrorInfo(42, "something new"), grpc.StatusCode.INTERNAL),
    ],
)
def test_failed_operation_answers_its_own_error(
    grpc_harness: GrpcHarness, error: ErrorInfo, code: grpc.StatusCode
) -> None:
    operation = claimed(grpc_harness)
    assert grpc_harness.store.finish(operation.id, "worker", grpc_harness.clock(), error=error)
    assert_status(
        lambda: recognition(grpc_harness, operation.id),
        code,
        f"operation {operation.id} failed: {error.message}",
    )


def test_cancelled_operation_answers_cancelled(grpc_harness: GrpcHarness) -> None:
    operation = queued(grpc_harness)
    cancelled = grpc_harness.stub(OperationServiceStub).Cancel(
        CancelOperationRequest(operation_id=operation.id), metadata=grpc_harness.metadata
    )
    assert cancelled.error.code == 1
    assert_status(
        lambda: recognition(grpc_harness, operation.id),
        grpc.StatusCode.CANCELLED,
        f"operation {operation.id} failed: cancelled",
    )


def test_unknown_other_folder_and_expired_are_not_found(grpc_harness: GrpcHarness) -> None:
    operation = finished(grpc_harness)
    assert_status(
        lambda: recognition(grpc_harness, "f8dnosuchoperation00"),
        grpc.StatusCode.NOT_FOUND,
        "operation f8dnosuchoperation00 not found",
    )
    assert_status(
        lambda: recognition(grpc_harness, operation.id, grpc_harness.other_metadata),
        grpc.StatusCode.NOT_FOUND,
        f"operation {operation.id} not found",
    )
    assert_status(lambda: recognition(grpc_harness, "../../etc/passwd"), grpc.StatusCode.NOT_FOUND)
    grpc_harness.clock.advance(3 * 24 * 3600)
    assert_status(
        lambda: recognition(grpc_harness, operation.id),
        grpc.StatusCode.NOT_FOUND,
        f"operation {operation.id} not found",
    )


@pytest.mark.parametrize("operation_id", ["", "  "])
def test_missing_operation_id_is_invalid_argument(
    grpc_harness: GrpcHarness, operation_id: str
) -> None:
    text = "operation_id is required"
    assert_status(
        lambda: recognition(grpc_harness, operation_id), grpc.StatusCode.INVALID_ARGUMENT, text
    )
    assert_status(
        lambda: delete(grpc_harness, operation_id), grpc.StatusCode.INVALID_ARGUMENT, text
    )


def test_get_recognition_needs_credentials(grpc_harness: GrpcHarness) -> None:
    operation = finished(grpc_harness)
    assert_status(
        lambda: recognition(grpc_harness, operation.id, ()), grpc.StatusCode.UNAUTHENTICATED
    )


def test_get_recognition_ignores_an_idempotency_key(grpc_harness: GrpcHarness) -> None:
    operation = finished(grpc_harness)
    metadata = (*grpc_harness.metadata, ("idempotency-key", "k" * 300))
    assert len(recognition(grpc_harness, operation.id, metadata)) == 12


def test_get_recognition_spends_a_v3_poll(make_grpc: Callable[..., GrpcHarness]) -> None:
    harness = make_grpc(quotas=QuotaSettings(v3_polls_per_second=2))
    operation = finished(harness)
    assert_status(lambda: recognition(harness, "f8dnosuchoperation00"), grpc.StatusCode.NOT_FOUND)
    assert len(recognition(harness, operation.id)) == 12
    assert_status(lambda: recognition(harness, operation.id), grpc.StatusCode.RESOURCE_EXHAUSTED)
    harness.clock.advance(1)
    assert delete(harness, operation.id) == empty_pb2.Empty()


def test_finished_v3_operation_carries_an_empty_response(grpc_harness: GrpcHarness) -> None:
    operation = finished(grpc_harness)
    polled = grpc_harness.stub(OperationServiceStub).Get(
        GetOperationRequest(operation_id=operation.id), metadata=grpc_harness.metadata
    )
    assert polled.done
    assert polled.response.Is(empty_pb2.Empty.DESCRIPTOR)
    assert polled.description == "STT v3 async recognition"


# --- DeleteRecognition --------------------------------------------------------------------------------


def test_delete_then_everything_is_not_found(grpc_harness: GrpcHarness) -> None:
    operation = finished(grpc_harness)
    assert delete(grpc_harness, operation.id) == empty_pb2.Empty()
    assert grpc_harness.store.get(operation.id) is None
    gone = f"operation {operation.id} not found"
    assert_status(lambda: recognition(grpc_harness, operation.id), grpc.StatusCode.NOT_FOUND, gone)
    operations = grpc_harness.stub(OperationServiceStub)
    assert_status(
        lambda: operations.Get(
            GetOperationRequest(operation_id=operation.id), metadata=grpc_harness.metadata
        ),
        grpc.StatusCode.NOT_FOUND,
        gone,
    )
    assert_status(lambda: delete(grpc_harness, operation.id), grpc.StatusCode.NOT_FOUND, gone)


def test_delete_another_folders_operation_is_not_found_and_keeps_it(
    grpc_harness: GrpcHarness,
) -> None:
    operation = finished(grpc_harness)
    assert_status(
        lambda: delete(grpc_harness, operation.id, grpc_harness.other_metadata),
        grpc.StatusCode.NOT_FOUND,
        f"operation {operation.id} not found",
    )
    stored = grpc_harness.store.get(operation.id)
    assert stored is not None
    assert stored.state is OperationState.SUCCEEDED
