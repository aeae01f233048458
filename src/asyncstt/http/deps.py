"""Typed dependencies of the routes: the service, the caller, and the raw request body; and `in_thread`,
where a route does its store work.

The routes are coroutines, served on the event loop without a hand-off per dependency: each request crosses to
a worker thread once, for the part that reads or writes the store (which may wait on the database), and its
answer is rendered there too. Authentication runs on the loop: the key and role cache answers from memory, and
only a miss reads the store there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from asyncstt.errors import InvalidArgument
from asyncstt.iam.auth import Authenticator
from asyncstt.iam.quota import QuotaLimiter
from asyncstt.operation import Idempotency
from asyncstt.service.caller import Caller, idempotency_of
from asyncstt.service.operations import OperationService

_MB = 1024**2
_T = TypeVar("_T")


async def in_thread(work: Callable[[], _T]) -> _T:
    """The result of `work`, run on a worker thread: the event loop serves other requests meanwhile."""
    return await run_in_threadpool(work)


async def get_service(request: Request) -> OperationService:
    service: OperationService = request.app.state.service
    return service


async def get_caller(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Caller:
    authenticator: Authenticator = request.app.state.authenticator
    principal = authenticator.authenticate(authorization)
    # The error handler names the caller of a refused request in the audit log.
    request.state.principal = principal
    quota: QuotaLimiter | None = request.app.state.quota
    return Caller(principal, authenticator, quota)


async def read_body(request: Request) -> bytes:
    """The raw body, refused early when it is far larger than any acceptable request.

    The cap is twice the inline-content limit (base64 adds a third), so an inline file just over the limit
    still reaches the service and gets its precise message.
    """
    limit: int = request.app.state.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> InvalidArgument:
    return InvalidArgument(
        f"the request body is over {limit // _MB} MB; put the file in a bucket and send its link as audio.uri"
    )


async def get_idempotency(
    body: Annotated[bytes, Depends(read_body)],
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Idempotency | None:
    """The submit's `Idempotency-Key` with a hash of the body it came with; None without the header."""
    return idempotency_of(idempotency_key, body, "Idempotency-Key header")


ServiceDep = Annotated[OperationService, Depends(get_service)]
CallerDep = Annotated[Caller, Depends(get_caller)]
BodyDep = Annotated[bytes, Depends(read_body)]
IdempotencyDep = Annotated[Idempotency | None, Depends(get_idempotency)]
#: `x-folder-id`: the folder a v3 or Operation API request acts in; absent: the account's own.
FolderHeader = Annotated[str | None, Header(alias="x-folder-id")]
