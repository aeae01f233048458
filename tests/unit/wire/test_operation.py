from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf import json_format
from yandex.cloud.ai.stt.v2 import stt_service_pb2

from asyncstt.errors import ErrorInfo
from asyncstt.operation import ApiVersion, Operation, OperationState, Progress
from asyncstt.recognition import Transcript
from asyncstt.wire.operation import render_operation, to_operation_pb
from asyncstt.wire.progress import TYPE_URL, RecognitionProgress
from tests.factories import make_operation, make_utterance, v2_chunk, v2_word

CREATED = datetime(2025, 3, 2, 10, 15, 7, tzinfo=UTC)
V2_RESPONSE = "type.googleapis.com/yandex.cloud.ai.stt.v2.LongRunningRecognitionResponse"


def operation(**changes: object) -> Operation:
    """The queued operation of the contract's examples, with `changes`."""
    return make_operation(
        "e03k7v0qh2b9m4t1c8rd",
        created_at=CREATED,
        created_by="ajeq7r2m5t8v1x4z6b9c",
        source_uri="s3://acme-calls/call-0001.pcm",
    ).evolve(**changes)


def two_channel_transcript() -> Transcript:
    return Transcript(
        utterances=(
            make_utterance(
                0,
                [
                    ("добрый", 0.42, 0.86),
                    ("день", 0.9, 1.24),
                    ("компания", 1.3, 1.88),
                    ("ромашка", 1.94, 2.31),
                ],
                "Добрый день, компания Ромашка.",
            ),
            make_utterance(
                1,
                [("здравствуйте", 2.9, 3.15), ("двенадцать", 3.5, 3.72), ("заказов", 3.76, 4.1)],
                "Здравствуйте, 12 заказов.",
            ),
        ),
        channels=2,
        duration_seconds=4.5,
    )


def test_submitted_v2_operation_has_done_false_and_queued_progress() -> None:
    assert render_operation(operation()) == {
        "done": False,
        "metadata": {
            "@type": TYPE_URL,
            "processedSeconds": 0,
            "totalSeconds": 0,
            "stage": "queued",
        },
        "id": "e03k7v0qh2b9m4t1c8rd",
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": "ajeq7r2m5t8v1x4z6b9c",
        "modifiedAt": "2025-03-02T10:15:07Z",
    }


def test_running_operation_carries_progress_and_whole_second_timestamps() -> None:
    running = operation(
        state=OperationState.RUNNING,
        progress=Progress(processed_seconds=3.5, total_seconds=11.0, stage="recognising"),
        modified_at=CREATED + timedelta(seconds=4, microseconds=750_000),
    )
    rendered = render_operation(running)
    assert rendered["done"] is False
    assert rendered["metadata"] == {
        "@type": "type.googleapis.com/asyncstt.v1.RecognitionProgress",
        "processedSeconds": 3.5,
        "totalSeconds": 11.0,
        "stage": "recognising",
    }
    assert rendered["modifiedAt"] == "2025-03-02T10:15:11Z"
    assert "description" not in rendered
    assert "response" not in rendered


def test_finished_two_channel_operation_matches_the_contract_example() -> None:
    finished = operation(
        state=OperationState.SUCCEEDED,
        result=two_channel_transcript(),
        modified_at=CREATED + timedelta(seconds=34),
        done_at=CREATED + timedelta(seconds=34),
    )
    assert render_operation(finished) == {
        "done": True,
        "response": {
            "@type": V2_RESPONSE,
            "chunks": [
                v2_chunk(
                    "1",
                    "Добрый день, компания Ромашка.",
                    [
                        v2_word("добрый", "0.420s", "0.860s"),
                        v2_word("день", "0.900s", "1.240s"),
                        v2_word("компания", "1.300s", "1.880s"),
                        v2_word("ромашка", "1.940s", "2.310s"),
                    ],
                ),
                v2_chunk(
                    "2",
                    "Здравствуйте, 12 заказов.",
                    [
                        v2_word("здравствуйте", "2.900s", "3.150s"),
                        v2_word("двенадцать", "3.500s", "3.720s"),
                        v2_word("заказов", "3.760s", "4.100s"),
                    ],
                ),
            ],
        },
        "id": "e03k7v0qh2b9m4t1c8rd",
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": "ajeq7r2m5t8v1x4z6b9c",
        "modifiedAt": "2025-03-02T10:15:41Z",
    }


def test_finished_without_speech_has_a_response_with_only_its_type() -> None:
    finished = operation(state=OperationState.SUCCEEDED, result=Transcript(), done_at=CREATED)
    assert render_operation(finished) == {
        "done": True,
        "response": {"@type": V2_RESPONSE},
        "id": "e03k7v0qh2b9m4t1c8rd",
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": "ajeq7r2m5t8v1x4z6b9c",
        "modifiedAt": "2025-03-02T10:15:07Z",
    }


def test_failed_operation_has_error_with_empty_details() -> None:
    failed = operation(
        state=OperationState.FAILED,
        error=ErrorInfo(3, "audio could not be decoded as OGG_OPUS"),
        modified_at=CREATED + timedelta(seconds=2),
    )
    assert render_operation(failed) == {
        "done": True,
        "error": {"code": 3, "message": "audio could not be decoded as OGG_OPUS", "details": []},
        "id": "e03k7v0qh2b9m4t1c8rd",
        "createdAt": "2025-03-02T10:15:07Z",
        "createdBy": "ajeq7r2m5t8v1x4z6b9c",
        "modifiedAt": "2025-03-02T10:15:09Z",
    }


def test_v3_operations_have_the_description_and_an_empty_response() -> None:
    queued = operation(api=ApiVersion.V3, id="f8d4q1n7c2v9k5m3h6tb")
    assert render_operation(queued)["description"] == "STT v3 async recognition"
    finished = queued.evolve(state=OperationState.SUCCEEDED, result=two_channel_transcript())
    rendered = render_operation(finished)
    assert rendered["response"] == {"@type": "type.googleapis.com/google.protobuf.Empty"}
    assert rendered["description"] == "STT v3 async recognition"
    assert rendered["done"] is True


def test_naive_timestamps_are_taken_as_utc() -> None:
    naive = operation(
        created_at=datetime(2025, 3, 2, 10, 15, 7), modified_at=datetime(2025, 3, 2, 10, 15, 8)
    )
    rendered = render_operation(naive)
    assert (rendered["createdAt"], rendered["modifiedAt"]) == (
        "2025-03-02T10:15:07Z",
        "2025-03-02T10:15:08Z",
    )


def test_operation_message_round_trips_the_v2_response() -> None:
    finished = operation(state=OperationState.SUCCEEDED, result=two_channel_transcript())
    message = to_operation_pb(finished)
    assert message.done
    assert message.WhichOneof("result") == "response"
    response = stt_service_pb2.LongRunningRecognitionResponse()
    assert message.response.Unpack(response)
    assert [chunk.channel_tag for chunk in response.chunks] == [1, 2]
    assert response.chunks[1].alternatives[0].words[2].end_time.ToMilliseconds() == 4100


@pytest.mark.parametrize("state", [OperationState.QUEUED, OperationState.RUNNING])
def test_unfinished_operation_metadata_unpacks_as_progress(state: OperationState) -> None:
    message = to_operation_pb(operation(state=state, progress=Progress(1.0, 2.0, "fetching")))
    progress = RecognitionProgress()
    assert message.metadata.Unpack(progress)
    assert (progress.processed_seconds, progress.total_seconds, progress.stage) == (
        1.0,
        2.0,
        "fetching",
    )
    assert message.WhichOneof("result") is None


def test_progress_json_round_trips_through_the_default_pool() -> None:
    message = to_operation_pb(operation(progress=Progress(1.5, 3.0, "recognising")))
    text = json_format.MessageToJson(message)
    assert '"@type": "type.googleapis.com/asyncstt.v1.RecognitionProgress"' in text
    parsed = json_format.Parse(text, type(message)())
    assert parsed == message


def _through_the_message(op: Operation, queue_position: int | None) -> dict[str, object]:
    """What REST answered when it rendered the gRPC message with json_format, for comparison."""
    rendered: dict[str, object] = json_format.MessageToDict(to_operation_pb(op, queue_position))
    rendered["done"] = op.done
    if "metadata" in rendered:
        progress = json_format.MessageToDict(
            to_operation_pb(op, queue_position), always_print_fields_with_no_presence=True
        )["metadata"]
        if queue_position is None:
            del progress["queuePosition"]
        rendered["metadata"] = progress
    if isinstance(error := rendered.get("error"), dict):
        error.setdefault("details", [])
    return rendered


@pytest.mark.parametrize("api", [ApiVersion.V2, ApiVersion.V3])
@pytest.mark.parametrize(
    ("changes", "queue_position"),
    [
        ({}, None),
        ({}, 4),
        ({"created_by": ""}, 1),
        ({"state": OperationState.RUNNING, "progress": Progress(12.5, 60.0, "recognising")}, None),
        ({"state": OperationState.SUCCEEDED, "result": "two channels"}, None),
        ({"state": OperationState.SUCCEEDED, "result": None}, None),
        ({"state": OperationState.FAILED, "error": ErrorInfo(3, "audio is not WAV")}, None),
        ({"state": OperationState.FAILED, "error": None}, None),
    ],
)
def test_the_one_pass_rendering_is_what_json_format_makes_of_the_message(
    api: ApiVersion, changes: dict[str, object], queue_position: int | None
) -> None:
    if changes.get("result") == "two channels":
        changes = changes | {"result": two_channel_transcript()}
    moment = CREATED + timedelta(minutes=3)
    op = operation(api=api, modified_at=moment, done_at=moment, **changes)
    rendered = render_operation(op, queue_position)
    assert rendered == _through_the_message(op, queue_position)
    assert next(iter(rendered)) == "done"
