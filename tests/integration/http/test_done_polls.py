"""Polls of done operations on a real store: their bodies are rendered once per API process, yet answer exactly
what a fresh rendering would, and an operation that goes away is 404 at once on every process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from asyncstt.http.app import create_app
from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec
from asyncstt.service.operations import OperationService
from asyncstt.settings import Settings
from asyncstt.store.sql import SqlStore
from asyncstt.wire.operation import operation_json
from tests.factories import ManualClock, make_transcript
from tests.support.contract_cases import CALLER, URI
from tests.support.postgres import STORE_URL_FIXTURES
from tests.support.twins import ENGLISH, build_twins

pytestmark = pytest.mark.integration

RECOGNITION = "/stt/v3/getRecognition"


@dataclass
class ApiProcess:
    """One API process of a deployment: its own store connections and its own app, on the shared database."""

    store: SqlStore
    service: OperationService
    client: TestClient
    headers: dict[str, str]
    clock: ManualClock


@pytest.fixture(params=list(STORE_URL_FIXTURES))
def processes(request: pytest.FixtureRequest) -> Iterator[Callable[[], ApiProcess]]:
    url: str = request.getfixturevalue(STORE_URL_FIXTURES[request.param])
    twins = build_twins()
    started: list[ApiProcess] = []

    def start() -> ApiProcess:
        store = SqlStore(url)
        service = OperationService(store, twins.sources, ENGLISH, Settings(), twins.clock)
        app = create_app(service, twins.authenticator, twins.metrics, quota=twins.quota)
        client = TestClient(app, raise_server_exceptions=False)
        process = ApiProcess(
            store, service, client, {"Authorization": f"Api-Key {twins.key}"}, twins.clock
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.client.close()
        process.store.close()


def finished(process: ApiProcess, api: ApiVersion) -> Operation:
    operation = process.service.submit(
        CALLER, RecognitionSpec(language="en-US"), uri=URI, content=None, api=api
    )
    assert process.store.claim("worker", 30, process.clock()) is not None
    assert process.store.finish(
        operation.id, "worker", process.clock(), result=make_transcript(3, 4)
    )
    return operation


def without_wall_time(body: bytes) -> list[dict[str, Any]]:
    parsed = [json.loads(line)["result"] for line in body.splitlines()]
    return [{k: v for k, v in line.items() if k != "responseWallTimeMs"} for line in parsed]


@pytest.mark.parametrize("api", [ApiVersion.V2, ApiVersion.V3])
def test_a_done_poll_answers_the_bytes_a_fresh_rendering_gives(
    processes: Callable[[], ApiProcess], api: ApiVersion
) -> None:
    process = processes()
    operation = finished(process, api)
    stored = process.store.get(operation.id)
    assert stored is not None

    answers = [
        process.client.get(f"/operations/{operation.id}", headers=process.headers) for _ in range(3)
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert {answer.content for answer in answers} == {operation_json(stored)}
    assert len({answer.headers["x-request-id"] for answer in answers}) == 3


def test_a_done_result_reads_the_same_stream_each_time_partial_or_not(
    processes: Callable[[], ApiProcess],
) -> None:
    process = processes()
    operation = finished(process, ApiVersion.V3)
    params: list[dict[str, str]] = [
        {"operationId": operation.id},
        {"operationId": operation.id, "partial": "true"},
        {"operation_id": operation.id},
    ]

    answers = [process.client.get(RECOGNITION, params=p, headers=process.headers) for p in params]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert len({answer.content for answer in answers}) == 1
    lines = without_wall_time(answers[0].content)
    assert len(lines) == 3 * 4
    assert lines[0]["sessionUuid"]["userRequestId"] == operation.id


def test_a_deleted_operation_is_404_at_once_on_every_process_that_rendered_it(
    processes: Callable[[], ApiProcess],
) -> None:
    first, second = processes(), processes()
    operation = finished(first, ApiVersion.V3)
    paths = [f"/operations/{operation.id}", f"{RECOGNITION}?operationId={operation.id}"]
    for process in (first, second):
        for path in paths:
            assert process.client.get(path, headers=process.headers).status_code == 200

    deleted = second.client.delete(
        "/stt/v3/deleteRecognition", params={"operationId": operation.id}, headers=second.headers
    )

    assert deleted.status_code == 200
    for process in (first, second):
        for path in paths:
            answer = process.client.get(path, headers=process.headers)
            assert answer.status_code == 404
            assert answer.json()["code"] == 5


def test_a_purged_operation_is_404_at_once_though_its_body_was_rendered(
    processes: Callable[[], ApiProcess],
) -> None:
    first, sweeper = processes(), processes()
    operation = finished(first, ApiVersion.V2)
    path = f"/operations/{operation.id}"
    assert first.client.get(path, headers=first.headers).status_code == 200

    cutoff = sweeper.clock() + timedelta(seconds=1)
    assert sweeper.store.purge_finished_before(cutoff) == [operation.id]

    assert first.client.get(path, headers=first.headers).status_code == 404
