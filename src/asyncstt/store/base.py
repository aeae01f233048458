"""The store port. `SqlStore` (SQLite or PostgreSQL) and `InMemoryStore` implement it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from asyncstt.errors import ErrorInfo
from asyncstt.operation import Operation, Progress
from asyncstt.recognition import Transcript


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key as stored: only a hash of the secret is kept."""

    id: str
    folder_id: str
    service_account_id: str
    secret_hash: str
    created_at: datetime
    revoked: bool = False


class OperationStore(Protocol):
    """Everything asyncstt must not lose. Every method is one transaction."""

    def create(self, operation: Operation, inline_audio: bytes | None = None) -> None:
        """Insert a new QUEUED operation (and its inline audio, when it came in the request)."""

    def get(self, operation_id: str) -> Operation | None:
        """The operation with this id, with its result, or None."""

    def claim(self, owner: str, lease_seconds: float, now: datetime) -> Operation | None:
        """Take the next operation to work on and lease it to `owner` until `now + lease_seconds`.

        Candidates are QUEUED operations and RUNNING ones whose lease has expired. Standard priority goes
        before deferred, then oldest first. The claimed operation is RUNNING, its `attempts` increased by one.
        Two concurrent callers never get the same operation.
        """

    def renew(self, operation_id: str, owner: str, lease_seconds: float, now: datetime) -> bool:
        """Extend the lease; False when `owner` no longer holds it (then it must stop working on it)."""

    def release(self, operation_id: str, owner: str, now: datetime) -> bool:
        """Hand a RUNNING operation held by `owner` back to the queue at once (a dispatcher stopping).

        It becomes QUEUED with no lease and its progress reset; False when `owner` did not hold it.
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
        operation is QUEUED (cancellation before it started). Clears the lease and drops inline audio.
        False when the condition did not hold and nothing was written.
        """

    def request_cancel(self, operation_id: str, now: datetime) -> Operation | None:
        """Mark a running operation for cancellation; returns the operation as it now is, or None."""

    def delete(self, operation_id: str) -> bool:
        """Remove the operation, its result and its audio. False when there was none."""

    def purge_finished_before(self, cutoff: datetime) -> list[str]:
        """Remove operations that ended before `cutoff`; returns their ids."""

    def inline_audio(self, operation_id: str) -> bytes | None:
        """The bytes that came inline with the request, while the operation is not done."""

    def add_api_key(self, record: ApiKeyRecord) -> None:
        """Store a new API key record."""

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        """The API key record with this id, or None."""

    def close(self) -> None:
        """Release connections."""
