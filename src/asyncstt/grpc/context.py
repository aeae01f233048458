"""What every gRPC servicer is given and how one call is handled: the caller from its metadata, the folder and
idempotency key it names, and the wrapper that logs, counts and turns errors into gRPC statuses.

Each servicer takes a `Door` in its constructor and keeps it as `self.door`; each of its methods is wrapped by
`rpc`, which finds the door there. A servicer refuses a call by raising an AsyncSttError, never by calling
`context.abort` itself, so that every refusal is counted, audited and carries its details alike.
"""

from __future__ import annotations

import functools
import inspect
import logging
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol, TypeVar, cast

import grpc
from google.protobuf.message import Message

from asyncstt import ids
from asyncstt.errors import AsyncSttError
from asyncstt.grpc.errors import abort_with, internal_error, status_code
from asyncstt.iam.auth import Authenticator, Principal
from asyncstt.iam.quota import QuotaLimiter
from asyncstt.observability.metrics import Metrics
from asyncstt.operation import Idempotency
from asyncstt.service.caller import Caller, idempotency_of
from asyncstt.service.operations import OperationService
from asyncstt.settings import Settings

log = logging.getLogger(__name__)

AUTHORIZATION = "authorization"
FOLDER_ID = "x-folder-id"
IDEMPOTENCY_KEY = "idempotency-key"
CLIENT_REQUEST_ID = "x-client-request-id"
REQUEST_ID = "x-request-id"

Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass(frozen=True)
class Door:
    """What every servicer is given: the service and identity code shared with REST, and the door's settings."""

    service: OperationService
    authenticator: Authenticator
    quota: QuotaLimiter | None
    metrics: Metrics
    settings: Settings
    #: `host:port` handed out by endpoint discovery, also the host of the JWT audience accepted.
    public_address: str


class Servicer(Protocol):
    """A servicer as `rpc` sees it."""

    @property
    def door(self) -> Door: ...


@dataclass
class _Call:
    """One call being answered: its ids, and the caller once `caller` has authenticated it."""

    method: str
    request_id: str
    client_request_id: str | None
    principal: Principal | None = None


_CURRENT: ContextVar[_Call] = ContextVar("grpc_call")


def metadata(context: grpc.ServicerContext, name: str) -> str | None:
    """The first value of the metadata key `name` (lower case), None when absent."""
    for key, value in context.invocation_metadata() or ():
        if key == name:
            return value if isinstance(value, str) else value.decode("latin-1")
    return None


def caller(door: Door, context: grpc.ServicerContext) -> Caller:
    """The caller named by the `authorization` metadata, checked as REST checks the header."""
    principal = door.authenticator.authenticate(metadata(context, AUTHORIZATION))
    call = _CURRENT.get(None)
    if call is not None:
        # `rpc` names the caller of a refused request in the audit log.
        call.principal = principal
    return Caller(principal, door.authenticator, door.quota)


def folder_id(context: grpc.ServicerContext) -> str:
    """The folder named by `x-folder-id`; empty: the caller's own."""
    return (metadata(context, FOLDER_ID) or "").strip()


def idempotency(context: grpc.ServicerContext, request: Message) -> Idempotency | None:
    """A submit's `idempotency-key` with a hash of the serialized request; None without one."""
    return idempotency_of(
        metadata(context, IDEMPOTENCY_KEY),
        request.SerializeToString(deterministic=True),
        "idempotency-key metadata",
    )


def rpc(method_name: str) -> Callable[[Handler], Handler]:
    """Wrap a servicer method, unary or server-streaming, named `method_name` (the full gRPC method name,
    e.g. `/yandex.cloud.operation.OperationService/Get`) in the metrics and the audit log.

    The call's `x-client-request-id` (when harmless) and a fresh `x-request-id` are sent back in the trailing
    metadata. An AsyncSttError ends the call with its gRPC code and the message REST gives, and refusals are
    audited as over REST; any other exception is a bug, logged with its traceback and answered INTERNAL
    naming the request id.
    """

    def decorate(method: Handler) -> Handler:
        if inspect.isgeneratorfunction(method):

            @functools.wraps(method)
            def streaming(
                servicer: Servicer, request: Message, context: grpc.ServicerContext
            ) -> Iterator[Any]:
                call = _begin(method_name, context)
                try:
                    yield from method(servicer, request, context)
                except GeneratorExit:
                    _finish(servicer.door, call, grpc.StatusCode.CANCELLED)
                    raise
                except Exception as exc:
                    _fail(servicer.door, call, context, exc)
                else:
                    _finish(servicer.door, call, grpc.StatusCode.OK)

            return cast(Handler, streaming)

        @functools.wraps(method)
        def unary(servicer: Servicer, request: Message, context: grpc.ServicerContext) -> Any:
            call = _begin(method_name, context)
            try:
                response = method(servicer, request, context)
            except Exception as exc:
                _fail(servicer.door, call, context, exc)
            _finish(servicer.door, call, grpc.StatusCode.OK)
            return response

        return cast(Handler, unary)

    return decorate


def _begin(method: str, context: grpc.ServicerContext) -> _Call:
    sent = ids.client_request_id(metadata(context, CLIENT_REQUEST_ID))
    call = _Call(method, str(uuid.uuid4()), sent)
    # Every call runs in a contextvars.Context of its own, so this is seen by this call alone.
    _CURRENT.set(call)
    context.set_trailing_metadata(_ids(call))
    return call


def _ids(call: _Call) -> tuple[tuple[str, str | bytes], ...]:
    ids: tuple[tuple[str, str | bytes], ...] = ((REQUEST_ID, call.request_id),)
    if call.client_request_id is not None:
        ids += ((CLIENT_REQUEST_ID, call.client_request_id),)
    return ids


def _fail(door: Door, call: _Call, context: grpc.ServicerContext, exc: Exception) -> NoReturn:
    """End the call with the status for `exc`."""
    if isinstance(exc, AsyncSttError):
        error = exc
        door.authenticator.record_denial(call.principal, f"gRPC {call.method}", error)
        log.info(
            "%s refused with code %d (request id %s, client request id %s): %s",
            call.method,
            error.code,
            call.request_id,
            call.client_request_id or "-",
            error.message,
        )
    else:
        log.error(
            "unexpected error in %s (request id %s, client request id %s)",
            call.method,
            call.request_id,
            call.client_request_id or "-",
            exc_info=exc,
        )
        error = internal_error(call.request_id)
    door.metrics.error(error.code, "request")
    _finish(door, call, status_code(error))
    abort_with(context, error, call.request_id, _ids(call))


def _finish(door: Door, call: _Call, code: grpc.StatusCode) -> None:
    door.metrics.grpc_request(call.method, code.name)
    log.debug(
        "%s answered %s (request id %s, client request id %s)",
        call.method,
        code.name,
        call.request_id,
        call.client_request_id or "-",
    )
