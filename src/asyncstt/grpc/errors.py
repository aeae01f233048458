"""The one place where errors become gRPC statuses: the code and message REST gives, with the same
`google.rpc.Status` (a RequestInfo detail naming the request id, a RetryInfo detail past a quota) in the
`grpc-status-details-bin` trailing metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

from asyncstt.errors import AsyncSttError, Internal, ResourceExhausted

STATUS_DETAILS = "grpc-status-details-bin"
_STATUS_CODES = {code.value[0]: code for code in grpc.StatusCode}

Metadata = Sequence[tuple[str, str | bytes]]


class Unimplemented(AsyncSttError):
    """Not served by this server."""

    code = 12


def status_code(error: AsyncSttError) -> grpc.StatusCode:
    """The gRPC status code of `error`."""
    return _STATUS_CODES.get(error.code, grpc.StatusCode.INTERNAL)


def status_details(error: AsyncSttError, request_id: str) -> status_pb2.Status:
    """The `google.rpc.Status` that REST sends as the body of the same error."""
    status = status_pb2.Status(code=error.code, message=error.message)
    status.details.add().Pack(error_details_pb2.RequestInfo(request_id=request_id))
    if isinstance(error, ResourceExhausted):
        delay = duration_pb2.Duration(seconds=error.retry_after_seconds)
        status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return status


def internal_error(request_id: str) -> Internal:
    """What a caller is told about a bug: the id it was logged under, as over REST."""
    return Internal(f"internal error; it was logged under error id {request_id}")


def abort_with(
    context: grpc.ServicerContext, error: AsyncSttError, request_id: str, trailing: Metadata
) -> NoReturn:
    """End the call with `error`'s status, `trailing` metadata going along with its details."""
    details = status_details(error, request_id).SerializeToString()
    context.set_trailing_metadata((*trailing, (STATUS_DETAILS, details)))
    context.abort(status_code(error), error.message)
    raise AssertionError("context.abort returned")  # pragma: no cover - grpc always raises
