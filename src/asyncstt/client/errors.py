"""The one exception the client raises, carrying the `google.rpc.Status` of what went wrong."""

from __future__ import annotations

import json
from typing import Any

#: The names of the `google.rpc.Code` values, for messages.
CODE_NAMES: dict[int, str] = {
    0: "OK",
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}
# For answers without a Status body (a proxy's error page, say): the code an HTTP status most likely means.
_CODE_BY_HTTP_STATUS = {
    400: 3,
    401: 16,
    403: 7,
    404: 5,
    409: 6,
    429: 8,
    499: 1,
    500: 13,
    501: 12,
    502: 14,
    503: 14,
    504: 4,
}
_MAX_TEXT = 300


class ClientError(Exception):
    """A refused request, a failed operation, or a server that could not be reached.

    `code` and `message` are the server's `google.rpc.Status` (for a failed operation, its `error`);
    `http_status` is the HTTP status of the answer, None when there was no answer (a timeout, no connection,
    an operation that failed while running).
    """

    def __init__(self, code: int, message: str, http_status: int | None = None) -> None:
        super().__init__(code, message, http_status)
        self.code = code
        self.message = message
        self.http_status = http_status

    @property
    def code_name(self) -> str:
        """The code's name, e.g. `NOT_FOUND`."""
        return CODE_NAMES.get(self.code, str(self.code))

    def __str__(self) -> str:
        return f"{self.message} ({self.code_name})"

    def __repr__(self) -> str:
        return f"ClientError(code={self.code}, message={self.message!r}, http_status={self.http_status})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClientError):
            return NotImplemented
        return (self.code, self.message, self.http_status) == (
            other.code,
            other.message,
            other.http_status,
        )

    def __hash__(self) -> int:
        return hash((self.code, self.message, self.http_status))


def error_of_answer(http_status: int, body: bytes) -> ClientError:
    """The ClientError of a non-2xx answer: its Status body, or a code guessed from the HTTP status."""
    status = _status_body(body)
    if status is not None:
        return ClientError(status[0], status[1], http_status)
    text = body.decode("utf-8", errors="replace").strip()[:_MAX_TEXT]
    code = _CODE_BY_HTTP_STATUS.get(http_status, 2 if http_status < 500 else 13)
    return ClientError(code, text or f"the server answered HTTP {http_status}", http_status)


def _status_body(body: bytes) -> tuple[int, str] | None:
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    code, message = data.get("code"), data.get("message")
    if not isinstance(code, int) or isinstance(code, bool) or not isinstance(message, str):
        return None
    return code, message
