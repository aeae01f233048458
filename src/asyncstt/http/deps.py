"""Typed dependencies of the routes: the service, the caller, and the raw request body."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from asyncstt.errors import InvalidArgument, NotFound
from asyncstt.iam.auth import ANONYMOUS, Authenticator, Principal
from asyncstt.iam.quota import QuotaKind, QuotaLimiter
from asyncstt.operation import ApiVersion, Idempotency, Operation
from asyncstt.service.operations import OperationService

_MB = 1024**2
#: The longest `Idempotency-Key` kept (the column's width).
MAX_IDEMPOTENCY_KEY = 255


def get_service(request: Request) -> OperationService:
    service: OperationService = request.app.state.service
    return service


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request, before it has been allowed anything.

    Every route that touches operations goes through `act` (a new operation) or `find` (an existing one):
    the folder is resolved and its role checked there. `find` spends the request's quota itself; a submit
    spends it through `spend` once the service has found the request valid, so a refused request costs none.
    """

    principal: Principal
    authenticator: Authenticator
    quota: QuotaLimiter | None

    def act(self, folder_id: str) -> Principal:
        """The caller acting in `folder_id` (empty: its own); the request's quota is spent by `spend`."""
        return self.authenticator.authorize(self.principal, folder_id)

    def spend(self, kind: QuotaKind) -> None:
        """Spend one request of `kind`; ResourceExhausted past the quota."""
        if self.quota is not None and self.principal != ANONYMOUS:
            self.quota.check(self.principal.service_account_id, kind)

    def find(
        self,
        service: OperationService,
        operation_id: str,
        folder_id: str,
        kind: QuotaKind | None = None,
    ) -> tuple[Principal, Operation]:
        """The operation, read once, with the caller acting in the folder that holds it.

        Another folder's operation is NotFound, exactly like a missing one, so that existence does not leak.
        A caller that may act in no folder is refused before it spends any quota.

        The request spends one request of `kind` before the read (the `/stt/v3/` routes: always a v3 poll).
        Without `kind` (the Operation API, which serves both versions) it spends, once the operation is read,
        the poll quota of its API version (`poll_quota`); an id that names none of the caller's operations
        spends a v2 poll, so that guessing ids costs quota too and another folder's v3 operation costs what a
        missing one does.
        """
        scopes = self.authenticator.scopes(self.principal, folder_id)
        in_reach = itertools.chain((next(scopes),), scopes)
        if kind is not None:
            self.spend(kind)
            return service.find(in_reach, operation_id)
        try:
            principal, operation = service.find(in_reach, operation_id)
        except NotFound:
            self.spend(QuotaKind.V2_POLL)
            raise
        self.spend(poll_quota(operation))
        return principal, operation


def get_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Caller:
    authenticator: Authenticator = request.app.state.authenticator
    principal = authenticator.authenticate(authorization)
    # The error handler names the caller of a refused request in the audit log.
    request.state.principal = principal
    quota: QuotaLimiter | None = request.app.state.quota
    return Caller(principal, authenticator, quota)


def poll_quota(operation: Operation) -> QuotaKind:
    """A poll or cancel spends the quota of its operation's API version."""
    return QuotaKind.V3_POLL if operation.api is ApiVersion.V3 else QuotaKind.V2_POLL


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


def get_idempotency(
    body: Annotated[bytes, Depends(read_body)],
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Idempotency | None:
    """The submit's `Idempotency-Key` with a hash of the body it came with; None without the header."""
    if idempotency_key is None or not idempotency_key.strip():
        return None
    key = idempotency_key.strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidArgument(
            f"the Idempotency-Key header is longer than {MAX_IDEMPOTENCY_KEY} characters"
        )
    return Idempotency(key, hashlib.sha256(body).hexdigest())


ServiceDep = Annotated[OperationService, Depends(get_service)]
CallerDep = Annotated[Caller, Depends(get_caller)]
BodyDep = Annotated[bytes, Depends(read_body)]
IdempotencyDep = Annotated[Idempotency | None, Depends(get_idempotency)]
#: `x-folder-id`: the folder a v3 or Operation API request acts in; absent: the account's own.
FolderHeader = Annotated[str | None, Header(alias="x-folder-id")]
