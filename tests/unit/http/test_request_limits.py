"""Oversized headers and fields are refused with short 400s wherever the REST door reads them."""

from __future__ import annotations

import json
from typing import Any

from asyncstt.lengths import MAX_FOLDER_ID, MAX_STRING
from tests.support.contract_cases import v3_body
from tests.unit.http.conftest import Harness


def refusal(response: Any) -> str:
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 3
    message: str = response.json()["message"]
    return message


def test_a_jwt_longer_than_any_string_field_is_refused(harness: Harness) -> None:
    body = json.dumps({"jwt": "e" * (MAX_STRING + 1)})
    answer = harness.client.post("/iam/v1/tokens", content=body)
    assert refusal(answer) == f"jwt is {MAX_STRING + 1} characters long; the limit is {MAX_STRING}"


def test_a_folder_header_over_its_limit_is_refused_on_submits_and_reads(harness: Harness) -> None:
    folder = {"x-folder-id": "b" * (MAX_FOLDER_ID + 1), **harness.headers}
    expected = f"the folder id is {MAX_FOLDER_ID + 1} characters long; the limit is {MAX_FOLDER_ID}"
    submitted = harness.client.post("/stt/v3/recognizeFileAsync", json=v3_body(), headers=folder)
    assert refusal(submitted) == expected
    read = harness.client.get("/operations/f8d00000000000000000", headers=folder)
    assert refusal(read) == expected


def test_a_huge_link_is_refused_without_being_echoed(harness: Harness) -> None:
    body = v3_body(uri="file:///" + "a" * 50_000_000)
    answer = harness.client.post(
        "/stt/v3/recognizeFileAsync", content=json.dumps(body), headers=harness.headers
    )
    assert refusal(answer) == "uri is 50000008 characters long; the limit is 8192"
    assert len(answer.content) < 1000
