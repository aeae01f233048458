"""`GET /operations/{id}` of a queued operation carries its place in the queue in `metadata.queuePosition`,
at the cost of one store query; a running or finished operation's poll pays nothing for it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from asyncstt.iam.auth import Principal
from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec, Transcript
from tests.unit.http.conftest import FOLDER, SERVICE_ACCOUNT, Harness

CALLER = Principal(FOLDER, SERVICE_ACCOUNT)


@pytest.fixture
def counted(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids the store is asked the queue position of, from now on."""
    asked: list[str] = []
    count = harness.store.queue_position

    def counting(
        operation: Operation, now: datetime, deferred_deadline_seconds: float | None = None
    ) -> int:
        asked.append(operation.id)
        return count(operation, now, deferred_deadline_seconds)

    monkeypatch.setattr(harness.store, "queue_position", counting)
    return asked


def submitted(harness: Harness, model: str = "general") -> Operation:
    harness.clock.advance(1)
    return harness.service.submit(
        CALLER,
        RecognitionSpec(language="en-US", model=model),
        uri="s3://acme/call.ogg",
        content=None,
        api=ApiVersion.V3,
    )


def metadata(harness: Harness, operation_id: str) -> Any:
    response = harness.client.get(f"/operations/{operation_id}", headers=harness.headers)
    assert response.status_code == 200
    return response.json().get("metadata")


def test_queued_operations_show_their_place_in_the_queue(
    harness: Harness, counted: list[str]
) -> None:
    deferred = submitted(harness, "deferred-general")
    first = submitted(harness)
    second = submitted(harness)
    assert [metadata(harness, op.id)["queuePosition"] for op in (first, second, deferred)] == [
        1,
        2,
        3,
    ]
    assert counted == [first.id, second.id, deferred.id]


def test_a_deferred_operation_past_its_deadline_moves_ahead(
    make_harness: Any,
) -> None:
    harness: Harness = make_harness(execution={"deferred_deadline_seconds": 60})
    deferred = submitted(harness, "deferred-general")
    standard = submitted(harness)
    assert metadata(harness, deferred.id)["queuePosition"] == 2
    harness.clock.advance(60)
    assert metadata(harness, deferred.id)["queuePosition"] == 1
    assert metadata(harness, standard.id)["queuePosition"] == 2


def test_the_position_moves_up_as_operations_ahead_are_claimed(harness: Harness) -> None:
    ahead = submitted(harness)
    waiting = submitted(harness)
    assert metadata(harness, waiting.id)["queuePosition"] == 2
    claim = harness.store.claim("worker", 30, harness.clock())
    assert claim is not None
    assert claim.operation.id == ahead.id
    assert metadata(harness, waiting.id)["queuePosition"] == 1


def test_running_and_finished_operations_cost_no_position_query(
    harness: Harness, counted: list[str]
) -> None:
    running = submitted(harness)
    finished = submitted(harness)
    assert harness.store.claim("worker", 30, harness.clock()) is not None
    assert harness.store.claim("worker", 30, harness.clock()) is not None
    assert harness.store.finish(finished.id, "worker", harness.clock(), result=Transcript())
    assert metadata(harness, running.id) == {
        "@type": "type.googleapis.com/asyncstt.v1.RecognitionProgress",
        "processedSeconds": 0,
        "totalSeconds": 0,
        "stage": "queued",
    }
    assert metadata(harness, finished.id) is None
    assert counted == []


def test_a_cancel_answers_without_a_position(harness: Harness, counted: list[str]) -> None:
    operation = submitted(harness)
    response = harness.client.post(f"/operations/{operation.id}:cancel", headers=harness.headers)
    assert response.json()["done"] is True
    assert counted == []
