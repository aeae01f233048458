"""InMemoryStore: the store port in process memory, for unit tests and demos. Same semantics as SqlStore."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from asyncstt.errors import ErrorInfo
from asyncstt.operation import Operation, OperationState, Progress
from asyncstt.recognition import Transcript
from asyncstt.store.base import ApiKeyRecord


class InMemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._operations: dict[str, Operation] = {}
        self._audio: dict[str, bytes] = {}
        self._keys: dict[str, ApiKeyRecord] = {}

    def create(self, operation: Operation, inline_audio: bytes | None = None) -> None:
        with self._lock:
            if operation.id in self._operations:
                raise ValueError(f"operation {operation.id} exists")
            self._operations[operation.id] = operation
            if inline_audio is not None:
                self._audio[operation.id] = inline_audio

    def get(self, operation_id: str) -> Operation | None:
        with self._lock:
            return self._operations.get(operation_id)

    def claim(self, owner: str, lease_seconds: float, now: datetime) -> Operation | None:
        with self._lock:
            candidates = [
                op
                for op in self._operations.values()
                if op.state is OperationState.QUEUED
                or (
                    op.state is OperationState.RUNNING
                    and op.lease_expires_at is not None
                    and op.lease_expires_at <= now
                )
            ]
            if not candidates:
                return None
            chosen = min(candidates, key=lambda op: (-op.priority, op.created_at, op.id))
            claimed = chosen.evolve(
                state=OperationState.RUNNING,
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=chosen.attempts + 1,
                modified_at=now,
            )
            self._operations[chosen.id] = claimed
            return claimed

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
            return True

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
            return expired

    def inline_audio(self, operation_id: str) -> bytes | None:
        with self._lock:
            return self._audio.get(operation_id)

    def add_api_key(self, record: ApiKeyRecord) -> None:
        with self._lock:
            self._keys[record.id] = record

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._lock:
            return self._keys.get(key_id)

    def close(self) -> None:
        """Nothing to release."""
