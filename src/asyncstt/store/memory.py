"""InMemoryStore: the store port in process memory, for unit tests and demos. Same semantics as SqlStore."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from asyncstt.errors import ErrorInfo
from asyncstt.operation import Idempotency, Operation, OperationState, Progress
from asyncstt.recognition import Priority, Transcript
from asyncstt.store.base import (
    Claim,
    Delivery,
    DueDelivery,
    Webhook,
    notification_body,
    reused_key,
)


@dataclass(frozen=True)
class _Key:
    request_hash: str
    operation_id: str
    created_at: datetime


def _claim_rank(
    now: datetime, deferred_deadline_seconds: float | None
) -> Callable[[Operation], tuple[int, datetime, str]]:
    """`claim`'s order: standard and aged deferred operations first, each group oldest first."""
    aged_before = (
        None
        if deferred_deadline_seconds is None
        else now - timedelta(seconds=deferred_deadline_seconds)
    )

    def rank(op: Operation) -> tuple[int, datetime, str]:
        urgent = op.priority is Priority.STANDARD or (
            aged_before is not None and op.created_at <= aged_before
        )
        return (0 if urgent else 1, op.created_at, op.id)

    return rank


class InMemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._operations: dict[str, Operation] = {}
        self._audio: dict[str, bytes] = {}
        self._slices: dict[tuple[str, str, int], bytes] = {}
        self._idempotency: dict[tuple[str, str], _Key] = {}
        self._webhooks: dict[str, Webhook] = {}
        self._deliveries: dict[int, Delivery] = {}
        self._last_delivery_id = 0

    def create(
        self,
        operation: Operation,
        inline_audio: bytes | None = None,
        idempotency: Idempotency | None = None,
        *,
        keys_expire_before: datetime | None = None,
    ) -> Operation:
        with self._lock:
            if operation.id in self._operations:
                raise ValueError(f"operation {operation.id} exists")
            if idempotency is not None:
                slot = (operation.folder_id, idempotency.key)
                held = self._idempotency.get(slot)
                holder = None if held is None else self._operations.get(held.operation_id)
                fresh = held is not None and (
                    keys_expire_before is None or held.created_at >= keys_expire_before
                )
                if held is not None and holder is not None and fresh:
                    if held.request_hash != idempotency.request_hash:
                        raise reused_key(idempotency.key)
                    return holder
                self._idempotency[slot] = _Key(
                    idempotency.request_hash, operation.id, operation.created_at
                )
            self._operations[operation.id] = operation
            if inline_audio is not None:
                self._audio[operation.id] = inline_audio
            return operation

    def get(self, operation_id: str) -> Operation | None:
        with self._lock:
            return self._operations.get(operation_id)

    def claim(
        self,
        owner: str,
        lease_seconds: float,
        now: datetime,
        deferred_deadline_seconds: float | None = None,
    ) -> Claim | None:
        rank = _claim_rank(now, deferred_deadline_seconds)
        with self._lock:
            candidates = self._claimable(now)
            if not candidates:
                return None
            chosen = min(candidates, key=rank)
            claimed = chosen.evolve(
                state=OperationState.RUNNING,
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=chosen.attempts + 1,
                modified_at=now,
            )
            self._operations[chosen.id] = claimed
            return Claim(claimed, took_over=chosen.state is OperationState.RUNNING)

    def queue_position(
        self, operation: Operation, now: datetime, deferred_deadline_seconds: float | None = None
    ) -> int:
        rank = _claim_rank(now, deferred_deadline_seconds)
        own = rank(operation)
        with self._lock:
            return 1 + sum(rank(op) < own for op in self._claimable(now) if op.id != operation.id)

    def _claimable(self, now: datetime) -> list[Operation]:
        """What `claim` chooses from: QUEUED operations and RUNNING ones whose lease has run out."""
        return [
            op
            for op in self._operations.values()
            if op.state is OperationState.QUEUED
            or (
                op.state is OperationState.RUNNING
                and op.lease_expires_at is not None
                and op.lease_expires_at <= now
            )
        ]

    def _held(self, operation_id: str, owner: str) -> Operation | None:
        op = self._operations.get(operation_id)
        if op is None or op.state is not OperationState.RUNNING or op.lease_owner != owner:
            return None
        return op

    def renew(self, operation_id: str, owner: str, lease_seconds: float, now: datetime) -> bool:
        with self._lock:
            op = self._held(operation_id, owner)
            if op is None:
                return False
            self._operations[operation_id] = op.evolve(
                lease_expires_at=now + timedelta(seconds=lease_seconds)
            )
            return True

    def release(self, operation_id: str, owner: str, now: datetime) -> bool:
        with self._lock:
            op = self._held(operation_id, owner)
            if op is None:
                return False
            self._operations[operation_id] = op.evolve(
                state=OperationState.QUEUED,
                lease_owner=None,
                lease_expires_at=None,
                progress=Progress(),
                modified_at=now,
            )
            return True

    def set_progress(
        self, operation_id: str, owner: str, progress: Progress, now: datetime
    ) -> bool:
        with self._lock:
            op = self._held(operation_id, owner)
            if op is None:
                return False
            self._operations[operation_id] = op.evolve(progress=progress, modified_at=now)
            return True

    def finish(
        self,
        operation_id: str,
        owner: str | None,
        now: datetime,
        result: Transcript | None = None,
        error: ErrorInfo | None = None,
    ) -> bool:
        if (result is None) == (error is None):
            raise ValueError("exactly one of result and error")
        with self._lock:
            op = self._operations.get(operation_id)
            if op is None:
                return False
            if owner is None:
                if op.state is not OperationState.QUEUED:
                    return False
            elif self._held(operation_id, owner) is None:
                return False
            self._operations[operation_id] = op.evolve(
                state=OperationState.SUCCEEDED if result is not None else OperationState.FAILED,
                result=result,
                error=error,
                done_at=now,
                modified_at=now,
                lease_owner=None,
                lease_expires_at=None,
                progress=Progress(op.progress.total_seconds, op.progress.total_seconds, "done"),
            )
            self._audio.pop(operation_id, None)
            self._drop_slices(operation_id)
            if op.folder_id in self._webhooks:
                self._queue_delivery(op.id, op.folder_id, notification_body(op.id, error), now)
            return True

    def _queue_delivery(self, operation_id: str, folder_id: str, body: str, now: datetime) -> None:
        self._last_delivery_id += 1
        self._deliveries[self._last_delivery_id] = Delivery(
            id=self._last_delivery_id,
            operation_id=operation_id,
            folder_id=folder_id,
            body=body,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )

    def save_slice(
        self,
        operation_id: str,
        owner: str,
        plan: str,
        slice_index: int,
        result: bytes,
        now: datetime,
    ) -> bool:
        with self._lock:
            if self._held(operation_id, owner) is None:
                return False
            self._slices.setdefault((operation_id, plan, slice_index), result)
            return True

    def saved_slices(self, operation_id: str, plan: str) -> dict[int, bytes]:
        with self._lock:
            return {
                index: result
                for (saved_id, saved_plan, index), result in self._slices.items()
                if (saved_id, saved_plan) == (operation_id, plan)
            }

    def latest_saved_slices(self, operation_id: str) -> dict[int, bytes]:
        with self._lock:
            # Slots keep the order they were saved in.
            plans = [plan for (saved_id, plan, _) in self._slices if saved_id == operation_id]
            return {
                index: result
                for (saved_id, plan, index), result in self._slices.items()
                if plans and (saved_id, plan) == (operation_id, plans[-1])
            }

    def _drop_slices(self, operation_id: str) -> None:
        for slot in [slot for slot in self._slices if slot[0] == operation_id]:
            del self._slices[slot]

    def request_cancel(self, operation_id: str, now: datetime) -> Operation | None:
        with self._lock:
            op = self._operations.get(operation_id)
            if op is None:
                return None
            if op.state is OperationState.RUNNING and not op.cancel_requested:
                op = op.evolve(cancel_requested=True, modified_at=now)
                self._operations[operation_id] = op
            return op

    def delete(self, operation_id: str) -> bool:
        with self._lock:
            self._audio.pop(operation_id, None)
            self._drop_slices(operation_id)
            return self._operations.pop(operation_id, None) is not None

    def purge_finished_before(self, cutoff: datetime) -> list[str]:
        with self._lock:
            expired = [
                op.id
                for op in self._operations.values()
                if op.done_at is not None and op.done_at < cutoff
            ]
            for operation_id in expired:
                del self._operations[operation_id]
                self._audio.pop(operation_id, None)
                self._drop_slices(operation_id)
            return expired

    def forget_idempotency_keys_before(self, cutoff: datetime) -> int:
        with self._lock:
            expired = [slot for slot, held in self._idempotency.items() if held.created_at < cutoff]
            for slot in expired:
                del self._idempotency[slot]
            return len(expired)

    def state_counts(self) -> dict[tuple[OperationState, Priority], int]:
        with self._lock:
            return dict(Counter((op.state, op.priority) for op in self._operations.values()))

    def inline_audio(self, operation_id: str) -> bytes | None:
        with self._lock:
            return self._audio.get(operation_id)

    def set_webhook(self, webhook: Webhook) -> None:
        with self._lock:
            self._webhooks[webhook.folder_id] = webhook

    def get_webhook(self, folder_id: str) -> Webhook | None:
        with self._lock:
            return self._webhooks.get(folder_id)

    def list_webhooks(self) -> list[Webhook]:
        with self._lock:
            return [self._webhooks[folder_id] for folder_id in sorted(self._webhooks)]

    def remove_webhook(self, folder_id: str) -> bool:
        with self._lock:
            if self._webhooks.pop(folder_id, None) is None:
                return False
            dropped = [d.id for d in self._deliveries.values() if d.folder_id == folder_id]
            for delivery_id in dropped:
                del self._deliveries[delivery_id]
            return True

    def claim_delivery(self, now: datetime, lease_seconds: float) -> DueDelivery | None:
        with self._lock:
            due = [
                d
                for d in self._deliveries.values()
                if d.next_attempt_at is not None and d.next_attempt_at <= now
            ]
            if not due:
                return None
            chosen = min(due, key=lambda d: (d.next_attempt_at or now, d.id))
            claimed = replace(
                chosen,
                attempts=chosen.attempts + 1,
                next_attempt_at=now + timedelta(seconds=lease_seconds),
            )
            self._deliveries[chosen.id] = claimed
            webhook = self._webhooks[chosen.folder_id]
            return DueDelivery(claimed, webhook.url, webhook.encrypted_secret)

    def _attempting(self, delivery_id: int, attempt: int) -> Delivery | None:
        delivery = self._deliveries.get(delivery_id)
        if delivery is None or delivery.attempts != attempt or delivery.next_attempt_at is None:
            return None
        return delivery

    def mark_delivered(self, delivery_id: int, attempt: int, now: datetime) -> bool:
        with self._lock:
            delivery = self._attempting(delivery_id, attempt)
            if delivery is None:
                return False
            self._deliveries[delivery_id] = replace(
                delivery, next_attempt_at=None, delivered_at=now
            )
            return True

    def record_failure(
        self,
        delivery_id: int,
        attempt: int,
        error: str,
        now: datetime,
        next_attempt_at: datetime | None,
    ) -> bool:
        with self._lock:
            delivery = self._attempting(delivery_id, attempt)
            if delivery is None:
                return False
            self._deliveries[delivery_id] = replace(
                delivery,
                last_error=error,
                next_attempt_at=next_attempt_at,
                failed_at=now if next_attempt_at is None else None,
            )
            return True

    def deliveries(self, folder_id: str | None = None) -> list[Delivery]:
        with self._lock:
            return [
                d
                for d in sorted(self._deliveries.values(), key=lambda d: d.id)
                if folder_id is None or d.folder_id == folder_id
            ]

    def purge_deliveries_before(self, cutoff: datetime) -> int:
        with self._lock:
            expired = [
                d.id
                for d in self._deliveries.values()
                if (d.delivered_at or d.failed_at or cutoff) < cutoff
            ]
            for delivery_id in expired:
                del self._deliveries[delivery_id]
            return len(expired)

    def close(self) -> None:
        """Nothing to release."""
