"""A request about an existing operation reads it from the store once, in whichever of the caller's folders
it is, and hands what it read on to the result, the cancel or the delete."""

from __future__ import annotations

import pytest

from asyncstt.errors import ErrorInfo
from asyncstt.iam.auth import Principal
from asyncstt.iam.records import ROLE_STT_USER, RoleBinding
from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec
from tests.factories import make_transcript
from tests.unit.http.conftest import FOLDER, OTHER_FOLDER, SERVICE_ACCOUNT, START, Harness

CALLER = Principal(FOLDER, SERVICE_ACCOUNT)
GET_RECOGNITION = "/stt/v3/getRecognition"
DELETE_RECOGNITION = "/stt/v3/deleteRecognition"


@pytest.fixture
def reads(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids the store is asked for (`get`) from now on."""
    asked: list[str] = []
    read = harness.store.get

    def counted(operation_id: str) -> Operation | None:
        asked.append(operation_id)
        return read(operation_id)

    monkeypatch.setattr(harness.store, "get", counted)
    return asked


def submitted(harness: Harness, principal: Principal = CALLER) -> Operation:
    return harness.service.submit(
        principal,
        RecognitionSpec(language="en-US"),
        uri="s3://acme/call.ogg",
        content=None,
        api=ApiVersion.V3,
    )


def claimed(harness: Harness, principal: Principal = CALLER) -> Operation:
    operation = submitted(harness, principal)
    harness.clock.advance(1)
    assert harness.store.claim("worker", 30, harness.clock()) is not None
    return operation


def finished(harness: Harness, principal: Principal = CALLER) -> Operation:
    operation = claimed(harness, principal)
    result = make_transcript(2, 3)
    assert harness.store.finish(operation.id, "worker", harness.clock(), result=result)
    return operation


def test_get_recognition_reads_once(harness: Harness, reads: list[str]) -> None:
    operation = finished(harness)
    response = harness.client.get(
        GET_RECOGNITION, params={"operationId": operation.id}, headers=harness.headers
    )
    assert response.status_code == 200
    assert len(response.text.splitlines()) == 3 * 3, "final, refinement and eou of 3 utterances"
    assert reads == [operation.id]


def test_get_recognition_of_an_operation_in_another_of_the_callers_folders_reads_once(
    harness: Harness, reads: list[str]
) -> None:
    harness.identity.bind_role(RoleBinding(OTHER_FOLDER, SERVICE_ACCOUNT, ROLE_STT_USER, START))
    operation = finished(harness, Principal(OTHER_FOLDER, SERVICE_ACCOUNT))
    response = harness.client.get(
        GET_RECOGNITION, params={"operationId": operation.id}, headers=harness.headers
    )
    assert response.status_code == 200
    assert response.text
    assert reads == [operation.id]


def test_delete_recognition_reads_once(harness: Harness, reads: list[str]) -> None:
    operation = finished(harness)
    response = harness.client.delete(
        DELETE_RECOGNITION, params={"operationId": operation.id}, headers=harness.headers
    )
    assert (response.status_code, response.json()) == (200, {})
    assert reads == [operation.id]
    assert harness.store.get(operation.id) is None


def test_cancel_of_a_running_operation_reads_once(harness: Harness, reads: list[str]) -> None:
    operation = claimed(harness)
    response = harness.client.post(f"/operations/{operation.id}:cancel", headers=harness.headers)
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["done"]) == (operation.id, False)
    assert reads == [operation.id]
    stored = harness.store.get(operation.id)
    assert stored is not None
    assert stored.cancel_requested


def test_cancel_of_a_finished_operation_reads_once(harness: Harness, reads: list[str]) -> None:
    operation = finished(harness)
    response = harness.client.post(f"/operations/{operation.id}:cancel", headers=harness.headers)
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["done"]) == (operation.id, True)
    assert "error" not in response.json()
    assert reads == [operation.id]


def test_cancel_of_a_queued_operation_reads_it_back_after_the_write_only(
    harness: Harness, reads: list[str]
) -> None:
    operation = submitted(harness)
    response = harness.client.post(f"/operations/{operation.id}:cancel", headers=harness.headers)
    assert response.json()["error"] == {"code": 1, "message": "cancelled", "details": []}
    # The look-up, then the operation as the cancel left it: the store's finish answers only whether it wrote.
    assert reads == [operation.id, operation.id]
    stored = harness.store.get(operation.id)
    assert stored is not None
    assert stored.error == ErrorInfo(1, "cancelled")


def test_get_operation_reads_once(harness: Harness, reads: list[str]) -> None:
    operation = submitted(harness)
    response = harness.client.get(f"/operations/{operation.id}", headers=harness.headers)
    assert (response.status_code, response.json()["id"]) == (200, operation.id)
    assert reads == [operation.id]


@pytest.mark.parametrize("whose", ["missing", "another folder's"])
def test_a_404_reads_once(harness: Harness, reads: list[str], whose: str) -> None:
    harness.identity.bind_role(RoleBinding(OTHER_FOLDER, SERVICE_ACCOUNT, ROLE_STT_USER, START))
    operation_id = "f8ddoesnotexist00000"
    if whose != "missing":
        operation_id = submitted(harness, Principal("b1gthird", "ajethird")).id
    response = harness.client.get(
        GET_RECOGNITION, params={"operationId": operation_id}, headers=harness.headers
    )
    assert (response.status_code, response.json()["message"]) == (
        404,
        f"operation {operation_id} not found",
    )
    assert reads == [operation_id]
