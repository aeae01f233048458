"""The one exception root of asyncstt and its mapping to `google.rpc.Status`.

Domain code raises subclasses of `AsyncSttError`; this module is the only place that turns one into a
`google.rpc.Status` and an HTTP status code (the table of the contract, section 1.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

#: gRPC code -> HTTP status, as the Yandex Cloud error model maps them.
HTTP_STATUS_BY_CODE: dict[int, int] = {
    0: 200,
    1: 499,
    2: 500,
    3: 400,
    4: 504,
    5: 404,
    6: 409,
    7: 403,
    8: 429,
    9: 400,
    10: 409,
    11: 400,
    12: 501,
    13: 500,
    14: 503,
    15: 500,
    16: 401,
}


class AsyncSttError(Exception):
    """Internal error."""

    #: gRPC status code carried on the wire.
    code: ClassVar[int] = 13

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS_BY_CODE.get(self.code, 500)

    @property
    def is_caller_error(self) -> bool:
        """Whether the caller's request or file is at fault (a 4xx): trying again cannot help."""
        return 400 <= self.http_status < 500

    def to_info(self) -> ErrorInfo:
        return ErrorInfo(code=self.code, message=self.message)


class Cancelled(AsyncSttError):
    """cancelled"""

    code = 1


class InvalidArgument(AsyncSttError):
    """Invalid argument."""

    code = 3


class NotFound(AsyncSttError):
    """Not found."""

    code = 5


class AlreadyExists(AsyncSttError):
    """Already exists."""

    code = 6


class PermissionDenied(AsyncSttError):
    """Permission denied."""

    code = 7


class ResourceExhausted(AsyncSttError):
    """Quota exceeded."""

    code = 8

    def __init__(self, message: str | None = None, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class FailedPrecondition(AsyncSttError):
    """Failed precondition."""

    code = 9


class Internal(AsyncSttError):
    """Internal error."""

    code = 13


class Unavailable(AsyncSttError):
    """Service unavailable, try again later."""

    code = 14


class Unauthenticated(AsyncSttError):
    """The request has no valid credentials."""

    code = 16


@dataclass(frozen=True)
class ErrorInfo:
    """A `google.rpc.Status` as stored with a failed operation."""

    code: int
    message: str
