"""The polls served in front of FastAPI's router answer exactly as the routes do, refusals included."""

from __future__ import annotations

import json
from typing import Any

from asyncstt.pipeline.plan import SliceSpec
from asyncstt.pipeline.task import SliceResult
from tests.factories import make_utterance
from tests.support.stored_operations import claimed, finished, queued
from tests.unit.http.conftest import SERVICE_ACCOUNT, Harness

RECOGNITION = "/stt/v3/getRecognition"


def save_word(harness: Harness, operation_id: str, word: str) -> None:
    """The operation's first slice saved, recognised as `word`."""
    utterance = make_utterance(0, [(word, 1.0, 2.0)], word)
    result = SliceResult(SliceSpec(0, 0, 0.0, 10.0), (utterance,), 10.0, channels=1)
    assert harness.store.save_slice(
        operation_id, "worker", "plan", 0, result.to_bytes(), harness.clock()
    )


def without_wall_time(body: str) -> list[dict[str, Any]]:
    parsed = [json.loads(line)["result"] for line in body.splitlines()]
    return [{k: v for k, v in line.items() if k != "responseWallTimeMs"} for line in parsed]


def test_a_partial_read_says_the_same_whichever_spelling_of_true_reaches_fastapi(
    harness: Harness,
) -> None:
    operation = claimed(harness)
    save_word(harness, operation.id, "hello")

    def read(flag: str) -> Any:
        params = {"operationId": operation.id, "partial": flag}
        return harness.client.get(RECOGNITION, params=params, headers=harness.headers)

    served, routed = read("true"), read("yes")

    assert served.status_code == routed.status_code == 200
    assert without_wall_time(served.text) == without_wall_time(routed.text)
    assert "hello" in served.text
    not_done = [read(flag) for flag in ("false", "no")]
    assert [answer.status_code for answer in not_done] == [400, 400]
    assert not_done[0].json()["message"] == not_done[1].json()["message"]


def test_a_result_read_authenticates_before_it_looks_at_the_operation_id(
    harness: Harness,
) -> None:
    missing_id = harness.client.get(RECOGNITION, headers={"Authorization": "Api-Key nonsense"})

    assert missing_id.status_code == 401
    assert missing_id.json()["code"] == 16
    assert missing_id.json()["details"][0]["requestId"] == missing_id.headers["x-request-id"]


def test_a_refused_poll_is_audited_under_its_path(harness: Harness) -> None:
    operation = finished(harness)

    refused = harness.client.get(
        f"/operations/{operation.id}", headers={**harness.headers, "x-folder-id": "b1gforeign"}
    )

    assert refused.status_code == 403
    [event] = harness.identity.list_audit()
    assert (event.actor, event.target, event.outcome) == (
        SERVICE_ACCOUNT,
        f"GET /operations/{operation.id}",
        "permission_denied",
    )


def test_a_poll_carries_the_request_ids_and_a_cancel_by_get_still_cancels(
    harness: Harness,
) -> None:
    operation = queued(harness)
    headers = {**harness.headers, "x-client-request-id": "f8d4q1n7-c2v9"}

    polled = harness.client.get(f"/operations/{operation.id}", headers=headers)
    cancelled = harness.client.get(f"/operations/{operation.id}:cancel", headers=headers)

    assert polled.status_code == 200
    assert polled.headers["x-client-request-id"] == "f8d4q1n7-c2v9"
    assert polled.json()["metadata"]["queuePosition"] == 1
    assert cancelled.status_code == 200
    assert cancelled.json()["done"] is True
