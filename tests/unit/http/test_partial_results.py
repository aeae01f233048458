"""`getRecognition?partial=true`, our extension: what a running operation has recognised so far."""

from __future__ import annotations

import json
from typing import Any

from asyncstt.operation import ApiVersion
from asyncstt.pipeline.plan import SliceSpec
from asyncstt.pipeline.task import SliceResult
from asyncstt.recognition import RecognitionSpec
from tests.factories import make_utterance
from tests.support.contract_cases import CALLER, URI
from tests.support.stored_operations import claimed, finished, queued
from tests.unit.http.conftest import Harness


def lines(harness: Harness, operation_id: str, **params: Any) -> Any:
    return harness.client.get(
        "/stt/v3/getRecognition",
        params={"operationId": operation_id, **params},
        headers=harness.headers,
    )


def save(harness: Harness, operation_id: str, index: int, start: float, word: str) -> None:
    utterance = make_utterance(0, [(word, start + 1.0, start + 2.0)], word)
    result = SliceResult(SliceSpec(index, 0, start, start + 10.0), (utterance,), 10.0, channels=1)
    assert harness.store.save_slice(
        operation_id, "worker", "plan", index, result.to_bytes(), harness.clock()
    )


def results(response: Any) -> list[dict[str, Any]]:
    """The stream's messages without their wall-clock stamps."""
    parsed = [json.loads(line)["result"] for line in response.text.splitlines()]
    return [{k: v for k, v in result.items() if k != "responseWallTimeMs"} for result in parsed]


def finals(response: Any) -> list[str]:
    return [
        result["final"]["alternatives"][0]["text"]
        for result in (json.loads(line)["result"] for line in response.text.splitlines())
        if "final" in result
    ]


def test_a_running_operation_streams_the_slices_recognised_so_far(harness: Harness) -> None:
    operation = claimed(harness)
    for index, word in enumerate(["one", "two", "three"]):
        save(harness, operation.id, index, index * 10.0, word)

    response = lines(harness, operation.id, partial="true")

    assert response.status_code == 200
    assert finals(response) == ["one", "two", "three"]


def test_without_partial_a_running_operation_is_not_done_yet(harness: Harness) -> None:
    operation = claimed(harness)
    save(harness, operation.id, 0, 0.0, "one")

    response = lines(harness, operation.id)

    assert response.status_code == 400
    assert response.json()["code"] == 9


def test_an_operation_labelling_speakers_has_no_partial_results(harness: Harness) -> None:
    operation = harness.service.submit(
        CALLER,
        RecognitionSpec(language="en-US", speaker_labeling=True),
        uri=URI,
        content=None,
        api=ApiVersion.V3,
    )

    response = lines(harness, operation.id, partial="true")

    assert response.status_code == 400
    assert response.json()["code"] == 9
    assert "labels speakers over the whole file" in response.json()["message"]


def test_a_queued_operation_has_recognised_nothing_yet(harness: Harness) -> None:
    response = lines(harness, queued(harness).id, partial="true")

    assert (response.status_code, response.text) == (200, "")


def test_a_finished_operation_gives_its_whole_result_either_way(harness: Harness) -> None:
    operation = finished(harness)

    assert results(lines(harness, operation.id, partial="true")) == results(
        lines(harness, operation.id)
    )
    assert len(finals(lines(harness, operation.id, partial="true"))) == 4


def test_partial_is_true_or_false(harness: Harness) -> None:
    response = lines(harness, claimed(harness).id, partial="perhaps")

    assert response.status_code == 400
    assert "partial" in response.json()["message"]
