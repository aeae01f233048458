"""The store port. `SqlStore` (SQLite or PostgreSQL) and `InMemoryStore` implement it."""

from __future__ import annotations

import json
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
        slices. When the operation's folder has a webhook, its delivery (`notification_body`) joins the outbox
        in the same transaction (see `WebhookStore`). False when the condition did not hold and nothing was
        written.
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

    def latest_saved_slices(self, operation_id: str) -> dict[int, bytes]:
        """Results saved for the operation under the plan that saved one last (the plan its run works on now),
        by slice index; empty when none was saved."""

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


@dataclass(frozen=True)
class Webhook:
    """Where a folder's finished operations are announced, and the secret that signs the announcements."""

    folder_id: str
    url: str
    #: The signing secret, sealed with the server key.
    encrypted_secret: bytes
    created_at: datetime


@dataclass(frozen=True)
class Delivery:
    """One announcement in the webhook outbox."""

    id: int
    operation_id: str
    folder_id: str
    body: str
    attempts: int
    created_at: datetime
    #: When the next attempt is due (while one is under way: when its lease runs out); None once it is over.
    next_attempt_at: datetime | None
    last_error: str | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None


@dataclass(frozen=True)
class DueDelivery:
    """A delivery a deliverer has just claimed, with the webhook it goes to."""

    delivery: Delivery
    url: str
    encrypted_secret: bytes


def notification_body(operation_id: str, error: ErrorInfo | None) -> str:
    """The JSON a webhook receives when an operation ends: its id, `done`, and its error when it has one.

    Never the result: the receiver reads it through the API, with its own credentials.
    """
    body: dict[str, object] = {"id": operation_id, "done": True}
    if error is not None:
        body["error"] = {"code": error.code, "message": error.message}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


class WebhookStore(Protocol):
    """Folders' webhooks and the outbox of their deliveries. Every method is one transaction."""

    def set_webhook(self, webhook: Webhook) -> None:
        """Register the folder's webhook, replacing the one it had; deliveries not done yet go to the new one."""

    def get_webhook(self, folder_id: str) -> Webhook | None:
        """The folder's webhook, or None."""

    def list_webhooks(self) -> list[Webhook]:
        """Every folder's webhook, by folder id."""

    def remove_webhook(self, folder_id: str) -> bool:
        """Remove the folder's webhook and its deliveries, done or not. False when it had none."""

    def claim_delivery(self, now: datetime, lease_seconds: float) -> DueDelivery | None:
        """Take the delivery due longest (`next_attempt_at` at or before `now`) for one attempt.

        Its `attempts` increases by one and `next_attempt_at` moves to `now + lease_seconds`, so that no other
        caller takes it while the attempt is under way, and a caller that dies leaves it due again once the
        lease runs out. Two concurrent callers never get the same delivery.
        """

    def mark_delivered(self, delivery_id: int, attempt: int, now: datetime) -> bool:
        """The receiver accepted attempt number `attempt`; False when the delivery is gone, over, or claimed
        again since (its attempts moved on), and nothing was written."""

    def record_failure(
        self,
        delivery_id: int,
        attempt: int,
        error: str,
        now: datetime,
        next_attempt_at: datetime | None,
    ) -> bool:
        """Attempt number `attempt` failed with `error`: try again at `next_attempt_at`, or give up (failed at
        `now`) when it is None. False as for `mark_delivered`."""

    def deliveries(self, folder_id: str | None = None) -> list[Delivery]:
        """Deliveries in the outbox, of one folder or all, oldest first."""

    def purge_deliveries_before(self, cutoff: datetime) -> int:
        """Remove deliveries delivered or given up before `cutoff`; returns how many."""
