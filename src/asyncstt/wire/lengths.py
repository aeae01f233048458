"""Every string of a request message within its length, every repeated field within its count.

Checked on the message, whichever door it came through, before anything in it is used or stored: a gRPC
message arrives as it is, a REST body once `json_format` has read it. Paths in messages are spelled in
camelCase, as REST clients write them.
"""

from __future__ import annotations

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from asyncstt.errors import InvalidArgument
from asyncstt.lengths import (
    MAX_FOLDER_ID,
    MAX_LANGUAGE_CODE,
    MAX_MODEL,
    MAX_REPEATED,
    MAX_STRING,
    MAX_URI,
)

#: Limits of the string fields that have one of their own, by field name.
_LIMITS = {
    "uri": MAX_URI,
    "language_code": MAX_LANGUAGE_CODE,
    "model": MAX_MODEL,
    "folder_id": MAX_FOLDER_ID,
}


def check_lengths(message: Message, path: str = "") -> None:
    """InvalidArgument naming the first string over its limit or repeated field over its count."""
    for field, value in message.ListFields():
        where = f"{path}.{field.json_name}" if path else field.json_name
        if _is_map(field):
            _check_map(field, value, where)
        elif field.is_repeated:
            if len(value) > MAX_REPEATED:
                raise InvalidArgument(
                    f"{where} has {len(value)} items; the limit is {MAX_REPEATED}"
                )
            for index, item in enumerate(value):
                _check_value(field, item, f"{where}[{index}]")
        else:
            _check_value(field, value, where)


def limit_of(field: FieldDescriptor) -> int:
    """The most characters a string field may hold."""
    return _LIMITS.get(field.name, MAX_STRING)


def _check_value(field: FieldDescriptor, value: object, where: str) -> None:
    if isinstance(value, Message):
        check_lengths(value, where)
    elif isinstance(value, str):
        _check_string(value, limit_of(field), where)


def _check_map(field: FieldDescriptor, entries: object, where: str) -> None:
    items = dict(entries)  # type: ignore[call-overload]
    if len(items) > MAX_REPEATED:
        raise InvalidArgument(f"{where} has {len(items)} entries; the limit is {MAX_REPEATED}")
    value_field = field.message_type.fields_by_name["value"]
    for key, value in items.items():
        if isinstance(key, str):
            _check_string(key, MAX_STRING, f"{where} key")
        _check_value(value_field, value, f"{where}.{str(key)[:64]}")


def _check_string(value: str, limit: int, where: str) -> None:
    if len(value) > limit:
        raise InvalidArgument(f"{where} is {len(value)} characters long; the limit is {limit}")


def _is_map(field: FieldDescriptor) -> bool:
    return (
        field.message_type is not None
        and field.is_repeated
        and field.message_type.GetOptions().map_entry
    )
