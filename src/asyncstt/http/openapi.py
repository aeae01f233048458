"""The OpenAPI document at `/openapi.json`, true to what the server does.

FastAPI knows each route's path, query and header parameters, but the routes read their bodies raw (they are
JSON whatever the Content-Type) and answer errors through http/errors.py, so its own document had no request
bodies, `{}` for every answer and a 422 that is never sent. Here the request bodies are the SpeechKit messages
as wire/ reads them (wire/json_schema.py), the answers are the Operation, the result lines and the
`google.rpc.Status` of every error, and each operation lists exactly the HTTP statuses it can answer with.
`tests/acceptance/test_openapi_fuzz.py` holds the server to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from yandex.cloud.ai.stt.v2 import stt_service_pb2
from yandex.cloud.ai.stt.v3 import stt_pb2
from yandex.cloud.iam.v1 import iam_token_service_pb2

from asyncstt.lengths import MAX_FOLDER_ID, MAX_IDEMPOTENCY_KEY
from asyncstt.wire.json_schema import JsonSchema, reference, request_schemas

_V3_REQUEST = stt_pb2.RecognizeFileRequest.DESCRIPTOR
_V2_REQUEST = stt_service_pb2.LongRunningRecognitionRequest.DESCRIPTOR
_TOKEN_REQUEST = iam_token_service_pb2.CreateIamTokenRequest.DESCRIPTOR
_SECURITY: list[dict[str, list[str]]] = [{"Authorization": []}]
#: What each HTTP status an operation may answer means; every error body is a `Status`.
_MEANINGS = {
    400: "Invalid request (google.rpc code 3), or an operation not done yet (code 9)",
    401: "No credentials, or credentials that are invalid, revoked or expired (code 16)",
    403: "The caller has no recognition role in the folder (code 7)",
    404: "No such operation among the caller's, or no such path (code 5)",
    429: "Over a quota (code 8); `Retry-After` says when to try again",
    499: "The operation was cancelled (code 1)",
    500: "The operation failed with an internal error (code 13); it is logged under the request id",
    503: "Unavailable for now (code 14): too many large bodies being read, or the operation failed for a "
    "reason worth retrying",
}


@dataclass(frozen=True)
class _Operation:
    """What the document says about one route beyond its parameters."""

    statuses: tuple[int, ...]
    success: JsonSchema | None = None
    media_types: tuple[str, ...] = ("application/json",)
    body: JsonSchema | None = None
    authenticated: bool = True
    links: dict[str, Any] | None = None
    description: str = ""
    example: dict[str, Any] | None = None


def _operation_link(target: str, parameter: str) -> dict[str, Any]:
    return {"operationId": target, "parameters": {parameter: "$response.body#/id"}}


_V3_LINKS = {
    "GetRecognition": _operation_link("getRecognition", "query.operationId"),
    "DeleteRecognition": _operation_link("deleteRecognition", "query.operationId"),
    "GetOperation": _operation_link("getOperation", "path.operation_id"),
    "CancelOperation": _operation_link("cancelOperation", "path.operation_id"),
}
_V2_LINKS = {
    "GetOperation": _operation_link("getOperation", "path.operation_id"),
    "CancelOperation": _operation_link("cancelOperation", "path.operation_id"),
    "GetSubtitles": _operation_link("getSubtitles", "path.operation_id"),
}
_OPERATION = {"$ref": "#/components/schemas/Operation"}
_SUBMIT = (200, 400, 401, 403, 429, 503)
_FIND = (200, 400, 401, 403, 404, 429)
# A result read raises a failed operation's own error again, whatever its code.
_RESULT = (200, 400, 401, 403, 404, 429, 499, 500, 503)
_LINE_DESCRIPTION = (
    'One JSON object per line, `{"result": StreamingResponse}` (see `x-line-schema`), in transcript '
    "order; an operation without speech gives an empty body."
)

#: Every route of the API by its operation id; `tests/unit/http/test_openapi.py` checks none is missing.
OPERATIONS: dict[str, _Operation] = {
    "longRunningRecognize": _Operation(
        _SUBMIT,
        _OPERATION,
        body=reference(_V2_REQUEST),
        links=_V2_LINKS,
        example={
            "config": {
                "specification": {
                    "languageCode": "ru-RU",
                    "audioEncoding": "LINEAR16_PCM",
                    "sampleRateHertz": 16000,
                }
            },
            "audio": {"uri": "s3://bucket/call.wav"},
        },
    ),
    "recognizeFileAsync": _Operation(
        _SUBMIT,
        _OPERATION,
        body=reference(_V3_REQUEST),
        links=_V3_LINKS,
        example={
            "uri": "s3://bucket/call.wav",
            "recognitionModel": {
                "audioFormat": {"containerAudio": {"containerAudioType": "WAV"}},
                "languageRestriction": {"restrictionType": "WHITELIST", "languageCode": ["ru-RU"]},
            },
        },
    ),
    "getRecognition": _Operation(_RESULT, None, description=_LINE_DESCRIPTION),
    "deleteRecognition": _Operation(_FIND, {"type": "object", "maxProperties": 0}),
    "getOperation": _Operation(_FIND, _OPERATION),
    "cancelOperation": _Operation(_FIND, _OPERATION),
    "cancelOperationByGet": _Operation(_FIND, _OPERATION),
    "getSubtitles": _Operation(
        _RESULT,
        {"type": "string"},
        media_types=("application/x-subrip", "text/vtt"),
        description="SRT (`format=srt`, the default) or WebVTT (`format=vtt`) subtitles.",
    ),
    "createIamToken": _Operation(
        (200, 400, 401, 503),
        {
            "type": "object",
            "required": ["iamToken", "expiresAt"],
            "properties": {
                "iamToken": {"type": "string"},
                "expiresAt": {"type": "string", "format": "date-time"},
            },
        },
        body=reference(_TOKEN_REQUEST),
        authenticated=False,
    ),
    "health": _Operation(
        (200,),
        {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"const": "ok"}},
        },
        authenticated=False,
    ),
    "metrics": _Operation(
        (200,),
        {"type": "string"},
        media_types=("text/plain",),
        authenticated=False,
        description="Prometheus metrics in the text exposition format.",
    ),
}
#: Longest value of the header parameters that have a limit.
_HEADER_LIMITS = {"x-folder-id": MAX_FOLDER_ID, "idempotency-key": MAX_IDEMPOTENCY_KEY}

_STATUS: JsonSchema = {
    "type": "object",
    "description": "A google.rpc.Status; details[0] is a google.rpc.RequestInfo naming the request id",
    "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["@type"],
                "properties": {"@type": {"type": "string"}},
            },
        },
    },
}
_TIMESTAMP = {"type": "string", "format": "date-time"}
_OPERATION_SCHEMA: JsonSchema = {
    "type": "object",
    "description": "A yandex.cloud.operation.Operation",
    "required": ["done", "id", "createdAt", "modifiedAt"],
    "properties": {
        "done": {"type": "boolean"},
        "metadata": {
            "type": "object",
            "description": "While not done: asyncstt.v1.RecognitionProgress",
            "required": ["@type", "processedSeconds", "totalSeconds", "stage"],
            "properties": {
                "@type": {"const": "type.googleapis.com/asyncstt.v1.RecognitionProgress"},
                "processedSeconds": {"type": "number"},
                "totalSeconds": {"type": "number"},
                "stage": {"type": "string"},
                "queuePosition": {"type": "integer", "minimum": 1},
            },
        },
        "response": {
            "type": "object",
            "description": "Once succeeded: google.protobuf.Empty (v3) or a LongRunningRecognitionResponse (v2)",
            "required": ["@type"],
            "properties": {"@type": {"type": "string"}},
        },
        "error": {"$ref": "#/components/schemas/Status"},
        "id": {"type": "string"},
        "description": {"type": "string"},
        "createdAt": _TIMESTAMP,
        "createdBy": {"type": "string"},
        "modifiedAt": _TIMESTAMP,
    },
}
#: One line of a getRecognition body.
RESULT_LINE: JsonSchema = {
    "type": "object",
    "required": ["result"],
    "properties": {
        "result": {
            "type": "object",
            "description": "A speechkit.stt.v3.StreamingResponse with every field emitted",
            "required": ["sessionUuid", "audioCursors", "responseWallTimeMs", "channelTag"],
        }
    },
}


def install_openapi(app: FastAPI) -> None:
    """Serve this module's document at `/openapi.json` (built once, on the first request for it)."""
    app.openapi = _cached(app)  # type: ignore[method-assign]


def _cached(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_document(app)
        return app.openapi_schema

    return openapi


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The document of `app`'s routes."""
    document: dict[str, Any] = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    for item in document["paths"].values():
        for operation in item.values():
            _describe(operation, OPERATIONS[operation["operationId"]])
    schemas = request_schemas(_V3_REQUEST, _V2_REQUEST, _TOKEN_REQUEST)
    schemas.update({"Status": _STATUS, "Operation": _OPERATION_SCHEMA})
    document["components"] = {
        "schemas": schemas,
        "securitySchemes": {
            "Authorization": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Api-Key <key>` or `Bearer <IAM token>`",
            }
        },
    }
    return document


def _describe(operation: dict[str, Any], spec: _Operation) -> None:
    parameters = [
        _limited(parameter)
        for parameter in operation.get("parameters", [])
        if parameter["name"].lower() != "authorization"
    ]
    if parameters:
        operation["parameters"] = parameters
    else:
        operation.pop("parameters", None)
    if spec.authenticated:
        operation["security"] = _SECURITY
    if spec.description:
        operation["description"] = "\n\n".join(
            part for part in (operation.get("description", ""), spec.description) if part
        )
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "description": "JSON, whatever the Content-Type says",
            "content": {"application/json": _media(spec.body, spec.example)},
        }
    operation["responses"] = {str(status): _response(status, spec) for status in spec.statuses}


def _media(schema: JsonSchema, example: dict[str, Any] | None) -> dict[str, Any]:
    return {"schema": schema} if example is None else {"schema": schema, "example": example}


def _limited(parameter: dict[str, Any]) -> dict[str, Any]:
    limit = _HEADER_LIMITS.get(parameter["name"].lower())
    if parameter["in"] == "header" and limit is not None:
        parameter["schema"] = {"type": "string", "maxLength": limit}
    return parameter


def _response(status: int, spec: _Operation) -> dict[str, Any]:
    if status != 200:
        return {
            "description": _MEANINGS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}},
        }
    content: dict[str, Any] = {}
    for media_type in spec.media_types:
        content[media_type] = {} if spec.success is None else {"schema": spec.success}
    if spec.success is None:
        content["application/json"]["x-line-schema"] = RESULT_LINE
    response: dict[str, Any] = {"description": "OK", "content": content}
    if spec.links is not None:
        response["links"] = spec.links
    return response
