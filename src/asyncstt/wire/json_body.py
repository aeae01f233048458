"""Reading a REST request body into a protobuf message: the steps v2 and v3 share."""

from __future__ import annotations

import binascii
import json
import math
import re
from collections.abc import Iterator
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from asyncstt.errors import InvalidArgument
from asyncstt.lengths import MAX_JSON_DEPTH, quoted

M = TypeVar("M", bound=Message)

_TO_STANDARD_BASE64 = bytes.maketrans(b"-_", b"+/")
_FIELD_PREFIX = re.compile(r"Failed to parse (\w+) field: ")
_LOCATION_SUFFIX = re.compile(r" at \w+\.\S*$")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_DECIMAL = re.compile(r"-?[0-9]+")
#: Floating-point numbers as proto3 JSON also spells them: as strings.
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_NAMED_NUMBERS = frozenset({"NaN", "Infinity", "-Infinity"})
_INTEGER_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_FLOAT_TYPES = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})


def load_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, whatever its Content-Type says.

    Refused besides invalid JSON: bytes that are not UTF-8, strings and keys that are not Unicode text (an
    unpaired surrogate escape such as `\\ud800`), `NaN`, `Infinity` and numbers too large for a double, and
    nesting deeper than `MAX_JSON_DEPTH`, so that no parser further on meets them.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(
            f"the request body is not valid JSON: it is not UTF-8 at byte {exc.start}"
        ) from exc
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:
        raise InvalidArgument(f"the request body is not valid JSON: {quoted(str(exc))}") from exc
    if not isinstance(data, dict):
        raise InvalidArgument("the request body must be a JSON object")
    # Only an escape can put a surrogate into text decoded as strict UTF-8.
    _check_tree(data, check_text=b"\\u" in body and bool(_SURROGATE_ESCAPE.search(body)))
    return data


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"the number {quoted(literal, 32)} is too large")
    return value


def _check_tree(data: dict[str, Any], check_text: bool) -> None:
    """Nesting within MAX_JSON_DEPTH; with `check_text`, every key and string a valid Unicode text."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        for key, value in items:
            if check_text:
                _check_text(key)
                _check_text(value)
            if isinstance(value, dict | list):
                pending.append((value, depth + 1))


def _too_deep() -> InvalidArgument:
    return InvalidArgument(
        f"the request body nests objects and arrays more than {MAX_JSON_DEPTH} levels deep"
    )


def _check_text(value: Any) -> None:
    if isinstance(value, str) and _LONE_SURROGATE.search(value):
        raise InvalidArgument(
            "the request body is not valid JSON: a string holds an unpaired surrogate escape "
            "(\\ud800-\\udfff); JSON text must be Unicode"
        )


def decode_base64(value: Any, field: str) -> bytes:
    """Inline audio, decoded strictly and several times faster than the protobuf parser does it.

    Both base64 alphabets are accepted, with or without padding; line breaks are skipped, as the Go gateway
    of the public service does.
    """
    if not isinstance(value, str):
        raise InvalidArgument(f"invalid request body: {field}: expected a base64 string")
    try:
        raw = value.encode("ascii").translate(_TO_STANDARD_BASE64, b"\r\n")
        return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise InvalidArgument(f"{field} is not valid base64") from exc


def is_enum_value(value: Any, enum: EnumDescriptor) -> bool:
    """Whether a JSON value names a value of `enum`: one of its names, or one of its numbers (not a boolean).

    Checked before parsing because the parser, told to ignore unknown fields, silently drops an unknown enum
    name, so that a typo would become the default.
    """
    if isinstance(value, str):
        return value in enum.values_by_name
    return isinstance(value, int) and not isinstance(value, bool) and value in enum.values_by_number


def parse_into(data: dict[str, Any], message: M) -> M:
    """Fill `message` from `data` (camelCase or snake_case keys; unknown fields ignored, as the gateway does).

    Scalars are checked first (`check_scalars`), so that what is accepted is what the OpenAPI document says.
    """
    check_scalars(data, message.DESCRIPTOR, "")
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise InvalidArgument(f"invalid request body: {quoted(_readable(str(exc)))}") from exc
    return message


def present_fields(
    data: dict[str, Any], descriptor: Descriptor, path: str
) -> Iterator[tuple[FieldDescriptor, str, Any]]:
    """The fields of `descriptor` that the JSON object `data` gives a value other than null (by their proto or
    camelCase name; unknown keys are skipped, as the parser ignores them), each with its path for messages."""
    fields = {field.name: field for field in descriptor.fields}
    fields.update({field.json_name: field for field in descriptor.fields})
    for key, value in data.items():
        field = fields.get(key)
        if field is not None and value is not None:
            yield field, f"{path}.{key}" if path else key, value


def check_scalars(data: dict[str, Any], descriptor: Descriptor, path: str) -> None:
    """Integers as JSON integers or decimal strings, booleans as `true`/`false`, floating-point numbers as JSON
    numbers or the strings proto3 JSON allows (`"1.5"`, `"NaN"`, `"Infinity"`); `null` for a field that is not
    repeated means the default.

    The parser alone takes far more (`"1e3"`, `"1_000"` and `"\\t16"` as integers, `true` and `" 1"` as
    numbers); a client sending those has a bug to be told about.
    """
    for field, where, value in present_fields(data, descriptor, path):
        items = value if field.is_repeated and isinstance(value, list) else [value]
        for item in items:
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                nested = field.message_type
                if isinstance(item, dict) and nested.file.package != "google.protobuf":
                    check_scalars(item, nested, where)
            elif field.type in _INTEGER_TYPES and not _is_integer(item):
                raise _unexpected(where, "an integer", item)
            elif field.type == FieldDescriptor.TYPE_BOOL and not isinstance(item, bool):
                raise InvalidArgument(f"invalid request body: {where}: expected true or false")
            elif field.type in _FLOAT_TYPES and not _is_number(item):
                raise _unexpected(where, "a number", item)


def _is_integer(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_DECIMAL.fullmatch(value))
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, str):
        return value in _NAMED_NUMBERS or bool(_NUMBER.fullmatch(value))
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unexpected(where: str, expected: str, value: Any) -> InvalidArgument:
    return InvalidArgument(
        f"invalid request body: {where}: expected {expected}, got {quoted(repr(value), 64)}"
    )


def _readable(message: str) -> str:
    """`Failed to parse a field: Failed to parse b field: why at Msg.a.b.` -> `a.b: why`."""
    path: list[str] = []
    while match := _FIELD_PREFIX.match(message):
        path.append(match.group(1))
        message = message[match.end() :]
    reason = _LOCATION_SUFFIX.sub("", message.rstrip(".")).rstrip(".")
    if reason.startswith(("invalid literal for int()", "Couldn't parse integer")):
        reason = f"expected an integer, got {reason.rsplit(': ', 1)[-1]}"
    elif reason.startswith("Expected true or false"):
        reason = "expected true or false"
    elif "expected string or bytes-like object" in reason:
        reason = "expected a string"
    return f"{'.'.join(path)}: {reason}" if path else reason
