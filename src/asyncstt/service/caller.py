"""What both front doors know about the caller of one request: who it is, where it may act, what it spends,
and the idempotency key of a submit."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

from asyncstt.errors import InvalidArgument, NotFound
from asyncstt.iam.auth import ANONYMOUS, Authenticator, Principal
from asyncstt.iam.quota import QuotaKind, QuotaLimiter
from asyncstt.lengths import MAX_FOLDER_ID, MAX_IDEMPOTENCY_KEY
from asyncstt.operation import ApiVersion, Idempotency, Operation
from asyncstt.service.operations import OperationService


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request, before it has been allowed anything.

    Every request that touches operations goes through `act` (a new operation) or `find` (an existing one):
    the folder is resolved and its role checked there. `find` spends the request's quota itself; a submit
    spends it through `spend` once the service has found the request valid, so a refused request costs none.
    """

    principal: Principal
    authenticator: Authenticator
    quota: QuotaLimiter | None

    def act(self, folder_id: str) -> Principal:
        """The caller acting in `folder_id` (empty: its own); the request's quota is spent by `spend`."""
        return self.authenticator.authorize(self.principal, _checked_folder(folder_id))

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

        The request spends one request of `kind` before the read (v3 result reads: always a v3 poll).
        Without `kind` (the Operation API, which serves both versions) it spends, once the operation is read,
        the poll quota of its API version (`poll_quota`); an id that names none of the caller's operations
        spends a v2 poll, so that guessing ids costs quota too and another folder's v3 operation costs what a
        missing one does.
        """
        scopes = self.authenticator.scopes(self.principal, _checked_folder(folder_id))
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


def _checked_folder(folder_id: str) -> str:
    if len(folder_id) > MAX_FOLDER_ID:
        raise InvalidArgument(
            f"the folder id is {len(folder_id)} characters long; the limit is {MAX_FOLDER_ID}"
        )
    return folder_id


def poll_quota(operation: Operation) -> QuotaKind:
    """A poll or cancel spends the quota of its operation's API version."""
    return QuotaKind.V3_POLL if operation.api is ApiVersion.V3 else QuotaKind.V2_POLL


def idempotency_of(key: str | None, request: bytes, where: str) -> Idempotency | None:
    """A submit's idempotency key with a hash of the request it came with; None without a key.

    `where` names how the key was sent, for the message that refuses one too long to keep.
    """
    if key is None or not key.strip():
        return None
    key = key.strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidArgument(f"the {where} is longer than {MAX_IDEMPOTENCY_KEY} characters")
    return Idempotency(key, hashlib.sha256(request).hexdigest())
