"""`asyncstt.v1.RecognitionProgress` with a queued operation's place in the queue."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import json_format

from asyncstt.operation import OperationState, Progress
from asyncstt.wire.operation import render_operation, to_operation_pb
from asyncstt.wire.progress import TYPE_URL, RecognitionProgress, to_progress_pb
from tests.factories import make_operation

CREATED = datetime(2025, 3, 2, 10, 15, 7, tzinfo=UTC)


def test_a_queued_operation_shows_its_queue_position() -> None:
    rendered = render_operation(make_operation("op1", created_at=CREATED), queue_position=3)
    assert rendered["metadata"] == {
        "@type": TYPE_URL,
        "processedSeconds": 0,
        "totalSeconds": 0,
        "stage": "queued",
        "queuePosition": 3,
    }


def test_without_a_position_the_metadata_has_none() -> None:
    running = make_operation(
        "op1",
        created_at=CREATED,
        state=OperationState.RUNNING,
        progress=Progress(2.0, 8.0, "recognising"),
    )
    assert "queuePosition" not in render_operation(running)["metadata"]
    assert "queuePosition" not in render_operation(make_operation("op2"))["metadata"]


def test_a_finished_operation_has_no_metadata_to_carry_it() -> None:
    done = make_operation("op1", state=OperationState.SUCCEEDED)
    assert "metadata" not in render_operation(done, queue_position=1)


def test_the_position_travels_in_the_packed_message() -> None:
    message = to_operation_pb(make_operation("op1"), queue_position=12)
    progress = RecognitionProgress()
    assert message.metadata.Unpack(progress)
    assert (progress.queue_position, progress.stage) == (12, "queued")
    assert json_format.MessageToDict(progress) == {"stage": "queued", "queuePosition": 12}


def test_the_json_form_parses_back_into_the_message() -> None:
    parsed = json_format.ParseDict(
        {"processedSeconds": 1.5, "totalSeconds": 4, "stage": "queued", "queuePosition": 7},
        RecognitionProgress(),
    )
    assert parsed == to_progress_pb(Progress(1.5, 4.0, "queued"), queue_position=7)
