"""The JSON Schema of a request message as REST reads it, for the OpenAPI document.

It says what the parsing in this room accepts, no more and no less: camelCase names (snake_case ones are read
too, like any key the message does not know, which is ignored), `null` for the default of any field that is not
repeated, integers as numbers or decimal strings, enums by name or number, the string lengths and item counts of
`asyncstt.lengths`, inline audio as base64, and at most one member of each oneof.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from asyncstt.lengths import MAX_JSON_DEPTH, MAX_REPEATED
from asyncstt.wire.lengths import limit_of

JsonSchema = dict[str, Any]

_INT32 = (-(2**31), 2**31 - 1)
_RANGES: dict[int, tuple[int, int]] = {
    FieldDescriptor.TYPE_INT32: _INT32,
    FieldDescriptor.TYPE_SINT32: _INT32,
    FieldDescriptor.TYPE_SFIXED32: _INT32,
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
#: Inline audio in either base64 alphabet, padded or not, with line breaks.
_BASE64 = r"^[A-Za-z0-9+/_\r\n-]*={0,2}$"


def request_schemas(*descriptors: Descriptor) -> dict[str, JsonSchema]:
    """The schemas of `descriptors` and of every message they hold, by full name, referring to each other as
    `#/components/schemas/<full name>`."""
    schemas: dict[str, JsonSchema] = {}
    for descriptor in descriptors:
        _add(descriptor, schemas)
    return schemas


def reference(descriptor: Descriptor) -> JsonSchema:
    return {"$ref": f"#/components/schemas/{descriptor.full_name}"}


def _add(descriptor: Descriptor, schemas: dict[str, JsonSchema]) -> None:
    if descriptor.full_name in schemas:
        return
    schemas[descriptor.full_name] = {}  # placeholder: a message may hold itself
    properties = {field.json_name: _field(field, schemas) for field in descriptor.fields}
    schema: JsonSchema = {"type": "object", "properties": properties}
    exclusive = [
        [_present(field.json_name) for field in oneof.fields]
        for oneof in descriptor.oneofs
        if len(oneof.fields) > 1
    ]
    if exclusive:
        # Two non-null members of one oneof are refused; `null` leaves a member out.
        schema["allOf"] = [
            {"not": {"allOf": [first, second]}}
            for members in exclusive
            for index, first in enumerate(members)
            for second in members[index + 1 :]
        ]
    schemas[descriptor.full_name] = schema


def _present(name: str) -> JsonSchema:
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


def _field(field: FieldDescriptor, schemas: dict[str, JsonSchema]) -> JsonSchema:
    single = _single(field, schemas)
    if field.is_repeated:
        single = {"type": "array", "items": single, "maxItems": MAX_REPEATED}
    return {"anyOf": [single, {"type": "null"}]}


def _single(field: FieldDescriptor, schemas: dict[str, JsonSchema]) -> JsonSchema:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == "google.protobuf.Struct":
            return {
                "type": "object",
                "description": f"any JSON object nested at most {MAX_JSON_DEPTH} levels deep in the body",
            }
        _add(field.message_type, schemas)
        return reference(field.message_type)
    if field.type == FieldDescriptor.TYPE_ENUM:
        values = field.enum_type.values
        return {
            "anyOf": [
                {"type": "string", "enum": [value.name for value in values]},
                {"type": "integer", "enum": [value.number for value in values]},
            ]
        }
    if field.type == FieldDescriptor.TYPE_STRING:
        return {"type": "string", "maxLength": limit_of(field)}
    if field.type == FieldDescriptor.TYPE_BYTES:
        return {"type": "string", "pattern": _BASE64, "description": "base64, either alphabet"}
    if field.type == FieldDescriptor.TYPE_BOOL:
        return {"type": "boolean"}
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"},
                {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]},
            ]
        }
    low, high = _RANGES[field.type]
    return {
        "anyOf": [
            {"type": "integer", "minimum": low, "maximum": high},
            {"type": "string", "pattern": "^-?[0-9]+$"},
        ]
    }
