"""The OpenAPI document names every route, its request body and exactly the statuses it answers with, and its
request schemas accept what the parser accepts and refuse what it refuses."""

from __future__ import annotations

import importlib
import json
import pkgutil
from typing import Any

import jsonschema_rs
import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from asyncstt.errors import InvalidArgument
from asyncstt.http import routes
from asyncstt.http.openapi import OPERATIONS
from asyncstt.lengths import MAX_REPEATED, MAX_URI
from asyncstt.wire.lengths import check_lengths
from asyncstt.wire.v2 import long_running_request_from_json
from asyncstt.wire.v3 import recognize_file_request_from_json
from tests.support.contract_cases import V3_REFUSALS, v3_body
from tests.unit.http.conftest import Harness

V3_SCHEMA = "speechkit.stt.v3.RecognizeFileRequest"
V2_SCHEMA = "yandex.cloud.ai.stt.v2.LongRunningRecognitionRequest"


@pytest.fixture
def document(harness: Harness) -> dict[str, Any]:
    response = harness.client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def validator(document: dict[str, Any], name: str) -> jsonschema_rs.Draft202012Validator:
    """A validator of one component schema, its references resolved inside the document."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


def routed_operations() -> set[str]:
    """The operation ids of every route each module of asyncstt.http.routes serves in the schema."""
    names: set[str] = set()
    for module in pkgutil.iter_modules(routes.__path__):
        router: APIRouter = importlib.import_module(f"{routes.__name__}.{module.name}").router
        names.update(
            str(route.operation_id)
            for route in router.routes
            if isinstance(route, APIRoute) and route.include_in_schema and router.include_in_schema
        )
    return names


def test_every_route_is_described_with_its_statuses(document: dict[str, Any]) -> None:
    served = routed_operations()
    described = {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
    }
    assert served == set(described) == set(OPERATIONS)
    for name, operation in described.items():
        assert [int(status) for status in operation["responses"]] == list(OPERATIONS[name].statuses)
        assert "422" not in operation["responses"]
        for status, response in operation["responses"].items():
            if status != "200":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Status"}
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_submits_have_their_request_bodies_and_links(document: dict[str, Any]) -> None:
    v3 = document["paths"]["/stt/v3/recognizeFileAsync"]["post"]
    assert v3["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": f"#/components/schemas/{V3_SCHEMA}"
    }
    assert v3["security"] == [{"Authorization": []}]
    assert set(v3["responses"]["200"]["links"]) == {
        "GetRecognition",
        "DeleteRecognition",
        "GetOperation",
        "CancelOperation",
    }
    names = [parameter["name"] for parameter in v3["parameters"]]
    assert "authorization" not in names
    assert "x-folder-id" in names
    v2 = document["paths"]["/speech/stt/v2/longRunningRecognize"]["post"]
    assert v2["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": f"#/components/schemas/{V2_SCHEMA}"
    }
    assert "security" not in document["paths"]["/health"]["get"]


@pytest.mark.parametrize(
    ("path", "name", "api"),
    [
        ("/stt/v3/recognizeFileAsync", V3_SCHEMA, "v3"),
        ("/speech/stt/v2/longRunningRecognize", V2_SCHEMA, "v2"),
    ],
)
def test_the_submit_examples_are_requests_the_reader_takes(
    document: dict[str, Any], path: str, name: str, api: str
) -> None:
    example = document["paths"][path]["post"]["requestBody"]["content"]["application/json"][
        "example"
    ]
    assert validator(document, name).is_valid(example)
    assert parses(example, api)


def test_error_answers_match_the_status_schema(harness: Harness, document: dict[str, Any]) -> None:
    status = validator(document, "Status")
    answers = [
        harness.client.get("/operations/nope", headers=harness.headers),
        harness.client.get("/operations/nope"),
        harness.client.post("/stt/v3/recognizeFileAsync", content=b"[", headers=harness.headers),
    ]
    for answer in answers:
        status.validate(answer.json())


def test_an_operation_matches_the_operation_schema(
    harness: Harness, document: dict[str, Any]
) -> None:
    submitted = harness.client.post(
        "/stt/v3/recognizeFileAsync", json=v3_body(), headers=harness.headers
    )
    assert submitted.status_code == 200, submitted.text
    validator(document, "Operation").validate(submitted.json())


def parses(request: Any, api: str) -> bool:
    """Whether the JSON reader of `api` takes `request` and its strings are within their limits (what is asked
    for is checked later)."""
    read = recognize_file_request_from_json if api == "v3" else long_running_request_from_json
    try:
        check_lengths(read(json.dumps(request).encode()))
    except InvalidArgument:
        return False
    return True


V3_BODIES: list[Any] = [
    v3_body(),
    {"content": "UklGRg=="},
    {"content": "UklGRg", "uri": None},
    {"uri": "s3://b/k", "content": "UklGRg=="},
    {"uri": 5},
    {"uri": "s3://b/" + "k" * MAX_URI},
    {"uri": "s3://b/k", "recognitionModel": None},
    {"uri": "s3://b/k", "recognitionModel": "general"},
    {
        "uri": "s3://b/k",
        "recognitionModel": {"audioFormat": {"rawAudio": {"sampleRateHertz": "16000"}}},
    },
    {
        "uri": "s3://b/k",
        "recognitionModel": {"audioFormat": {"rawAudio": {"sampleRateHertz": "1e3"}}},
    },
    {
        "uri": "s3://b/k",
        "recognitionModel": {"audioFormat": {"rawAudio": {"sampleRateHertz": 16.5}}},
    },
    {
        "uri": "s3://b/k",
        "recognitionModel": {"audioFormat": {"rawAudio": {"sampleRateHertz": True}}},
    },
    {
        "uri": "s3://b/k",
        "recognitionModel": {"audioFormat": {"rawAudio": {}, "containerAudio": {}}},
    },
    {
        "uri": "s3://b/k",
        "recognitionModel": {"audioFormat": {"rawAudio": {}, "containerAudio": None}},
    },
    {
        "uri": "s3://b/k",
        "recognitionModel": {"audioFormat": {"containerAudio": {"containerAudioType": 1}}},
    },
    {
        "uri": "s3://b/k",
        "recognitionModel": {"audioFormat": {"containerAudio": {"containerAudioType": "1"}}},
    },
    {"uri": "s3://b/k", "recognitionModel": {"textNormalization": {"profanityFilter": "true"}}},
    {"uri": "s3://b/k", "recognitionModel": {"languageRestriction": {"languageCode": None}}},
    {"uri": "s3://b/k", "recognitionModel": {"languageRestriction": {"languageCode": [None]}}},
    {"uri": "s3://b/k", "recognitionModel": {"languageRestriction": {"languageCode": "en-US"}}},
    {
        "uri": "s3://b/k",
        "recognitionModel": {
            "languageRestriction": {"languageCode": ["en-US"] * (MAX_REPEATED + 1)}
        },
    },
    {"uri": "s3://b/k", "speechAnalysis": {"descriptiveStatisticsQuantiles": [0.5, "0.9", "NaN"]}},
    {"uri": "s3://b/k", "speechAnalysis": {"descriptiveStatisticsQuantiles": [True]}},
    {"uri": "s3://b/k", "speechAnalysis": {"descriptiveStatisticsQuantiles": [" 1"]}},
    {"uri": "s3://b/k", "summarization": {"properties": [{"jsonObject": True, "jsonSchema": {}}]}},
    {"uri": "s3://b/k", "summarization": {"properties": [{"jsonSchema": {"schema": {"a": [1]}}}]}},
    {"uri": "s3://b/k", "uri_extra": {"anything": True}},
    {"content": "not base64!"},
]


@pytest.mark.parametrize("body", V3_BODIES)
def test_the_v3_schema_says_what_the_reader_takes(document: dict[str, Any], body: Any) -> None:
    assert validator(document, V3_SCHEMA).is_valid(body) is parses(body, "v3")


@pytest.mark.parametrize("body", [case for case, _ in V3_REFUSALS])
def test_requests_refused_for_what_they_ask_are_well_formed(
    document: dict[str, Any], body: Any
) -> None:
    assert validator(document, V3_SCHEMA).is_valid(body)


@pytest.mark.parametrize(
    "body",
    [
        {"audio": {"uri": "s3://b/k"}, "config": {"specification": {"languageCode": "en-US"}}},
        {"audio": {"uri": "s3://b/k", "content": "UklGRg=="}},
        {"audio": {"uri": "s3://b/k"}, "config": {"specification": {"audioEncoding": "WAV"}}},
        {"audio": {"uri": "s3://b/k"}, "config": {"specification": {"audioEncoding": 2}}},
        {"audio": {"uri": "s3://b/k"}, "config": {"specification": {"sampleRateHertz": "1_000"}}},
        {"audio": {"uri": "s3://b/k"}, "config": {"folderId": "f" * 65}},
        {"audio": {"uri": "s3://b/k"}, "config": {"folderId": None}},
        {"audio": "s3://b/k"},
    ],
)
def test_the_v2_schema_says_what_the_reader_takes(document: dict[str, Any], body: Any) -> None:
    assert validator(document, V2_SCHEMA).is_valid(body) is parses(body, "v2")
