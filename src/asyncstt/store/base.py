"""The store port. `SqlStore` (SQLite or PostgreSQL) and `InMemoryStore` implement it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from asyncstt.errors import ErrorInfo, InvalidArgument
from asyncstt.operation import Idempotency, Operation, OperationState, Progress
from asyncstt.recognition import Priority, Transcript


@dataclass(frozen=True)
class Claim:
    """An operation a dispatcher has just claimed."""

    operation: Operation
    #: It was RUNNING under a lease that had run out: its previous dispatcher died or lost touch.
    took_over: bool = False


def reused_key(key: str) -> InvalidArgument:
    """The error for an `Idempotency-Key` sent again with another request body."""
    return InvalidArgument(
        f"Idempotency-Key {key[:64]} was used with a different request; "
        "send a new key with a new request"
    )


class OperationStore(Protocol):
    """Everything asyncstt must not lose. Every method is one transaction."""

    def create(
        self,
        operation: Operation,
        inline_audio: bytes | None = None,
        idempotency: Idempotency | None = None,
        *,
        keys_expire_before: datetime | None = None,
    ) -> Operation:
        """Insert a new QUEUED operation (and its inline audio, when it came in the request); returns it.

        With `idempotency`, the key is remembered for the operation's folder in the same transaction. When the
        folder's key is held already (remembered at or after `keys_expire_before`, by an operation that still
        exists), nothing is inserted and the operation holding it is returned, done or not; the same key with
        another request hash raises InvalidArgument (see `reused_key`). Concurrent creates with one key make
        exactly one operation.
        """

    def get(self, operation_id: str) -> Operation | None:
        """The operation with this id, with its result, or None."""

    def claim(
        self,
        owner: str,
        lease_seconds: float,
        now: datetime,
        deferred_deadline_seconds: float | None = None,
    ) -> Claim | None:
        """Take the next operation to work on and lease it to `owner` until `now + lease_seconds`.

        Candidates are QUEUED operations and RUNNING ones whose lease has expired. Standard priority goes
        before deferred, then oldest first; a deferred operation created `deferred_deadline_seconds` or more
        before `now` ranks as standard (None: deferred never ages). The claimed operation is RUNNING, its
        `attempts` increased by one. Two concurrent callers never get the same operation.
        """

    def queue_position(
        self, operation: Operation, now: datetime, deferred_deadline_seconds: float | None = None
    ) -> int:
        """Where the QUEUED `operation` stands in the queue: 1 + how many operations `claim` at `now`, with
        the same `deferred_deadline_seconds`, would take before it. One count, no lock.
        """

    def renew(self, operation_id: str, owner: str, lease_seconds: float, now: datetime) -> bool:
        """Extend the lease; False when `owner` no longer holds it (then it must stop working on it)."""

    def release(self, operation_id: str, owner: str, now: datetime) -> bool:
        """Hand a RUNNING operation held by `owner` back to the queue at once (a dispatcher stopping).

        It becomes QUEUED with no lease and its progress reset; its saved slices stay for the next claim.
        False when `owner` did not hold it.
        """

    def set_progress(
        self, operation_id: str, owner: str, progress: Progress, now: datetime
    ) -> bool:
        """Record progress of a RUNNING operation held by `owner`; False when the lease is lost."""

    def finish(
        self,
        operation_id: str,
        owner: str | None,
        now: datetime,
        result: Transcript | None = None,
        error: ErrorInfo | None = None,
    ) -> bool:
        """End the operation with exactly one of `result`/`error`, once.

        With an `owner`, only while that owner holds the lease on a RUNNING operation; with None, only while the
        operation is QUEUED (cancellation before it started). Clears the lease, drops inline audio and saved
        slices. False when the condition did not hold and nothing was written.
        """

    def save_slice(
        self,
        operation_id: str,
        owner: str,
        plan: str,
        slice_index: int,
        result: bytes,
        now: datetime,
    ) -> bool:
        """Keep a finished slice's result while `owner` holds the lease on the RUNNING operation.

        Saving the same (operation, plan, index) again keeps the first result and still answers True.
        False when the lease is lost and nothing was written.
        """

    def saved_slices(self, operation_id: str, plan: str) -> dict[int, bytes]:
        """Results saved for the operation under `plan`, by slice index."""

    def request_cancel(self, operation_id: str, now: datetime) -> Operation | None:
        """Mark a running operation for cancellation; returns the operation as it now is, or None."""

    def delete(self, operation_id: str) -> bool:
        """Remove the operation, its result and its audio. False when there was none."""

    def purge_finished_before(self, cutoff: datetime) -> list[str]:
        """Remove operations that ended before `cutoff`; returns their ids."""

    def forget_idempotency_keys_before(self, cutoff: datetime) -> int:
        """Forget `Idempotency-Key`s remembered before `cutoff`; returns how many."""

    def state_counts(self) -> dict[tuple[OperationState, Priority], int]:
        """How many operations are in each (state, priority), for metrics; absent pairs have none."""

    def inline_audio(self, operation_id: str) -> bytes | None:
        """The bytes that came inline with the request, while the operation is not done."""

    def close(self) -> None:
        """Release connections."""
