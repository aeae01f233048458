"""Identifiers: operations' (20 lowercase base32 characters from a CSPRNG), and the ones clients send."""

from __future__ import annotations

import re
import secrets

_ALPHABET = "abcdefghijklmnopqrstuv0123456789"
LENGTH = 20
#: Cosmetic prefixes that mimic the public service; never parsed.
V2_PREFIX = "e03"
V3_PREFIX = "f8d"
#: What a client's `x-client-request-id` may be for it to be logged and echoed back: a harmless token.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def new_operation_id(prefix: str = V2_PREFIX) -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(LENGTH - len(prefix)))
    return prefix + body


def new_instance_id(prefix: str = "") -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(LENGTH - len(prefix)))


def is_plausible_operation_id(value: str) -> bool:
    """True for strings that could name an operation (≤ 50 printable characters, no path separators)."""
    return 0 < len(value) <= 50 and value.isascii() and value.isalnum()


def client_request_id(sent: str | None) -> str | None:
    """The `x-client-request-id` a client sent, when it is a harmless token; anything else is dropped."""
    return sent if sent is not None and _CLIENT_REQUEST_ID.fullmatch(sent) else None
