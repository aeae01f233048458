"""An operation as a row of the `operations` table, and back."""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import Any

from sqlalchemy import RowMapping

from asyncstt.errors import ErrorInfo
from asyncstt.operation import ApiVersion, Operation, OperationState, Progress
from asyncstt.recent import RecentValues
from asyncstt.recognition import RecognitionSpec, Transcript


def compressed(result: Transcript | None) -> bytes | None:
    """A transcript as the `result` column keeps it: zlib of its JSON."""
    return None if result is None else zlib.compress(result.to_json().encode())


def row_of(operation: Operation) -> dict[str, Any]:
    """The `operations` row of `operation`."""
    return {
        "id": operation.id,
        "folder_id": operation.folder_id,
        "created_by": operation.created_by,
        "api": operation.api.value,
        "spec": operation.spec.to_json(),
        "priority": int(operation.priority),
        "source_uri": operation.source_uri,
        "state": operation.state.value,
        "processed_seconds": operation.progress.processed_seconds,
        "total_seconds": operation.progress.total_seconds,
        "stage": operation.progress.stage,
        "result": compressed(operation.result),
        "error_code": None if operation.error is None else operation.error.code,
        "error_message": None if operation.error is None else operation.error.message,
        "created_at": operation.created_at,
        "modified_at": operation.modified_at,
        "done_at": operation.done_at,
        "cancel_requested": operation.cancel_requested,
        "lease_owner": operation.lease_owner,
        "lease_expires_at": operation.lease_expires_at,
        "attempts": operation.attempts,
    }


@lru_cache(maxsize=1024)
def spec_of(text: str) -> RecognitionSpec:
    """The spec a `spec` column holds. A spec is immutable and a poll reads the same one again and again, so
    each text is parsed once while it is among the most recently read."""
    return RecognitionSpec.from_json(text)


#: The transcripts of the `result` columns read most recently, keyed by the column's bytes, at most 4 MiB of them.
_TRANSCRIPTS: RecentValues[bytes, Transcript] = RecentValues(budget=4 * 1024**2)


def transcript_of(column: bytes) -> Transcript:
    """The transcript a `result` column holds.

    A done operation is polled again and again and its result never changes, so each result is decompressed
    and parsed once while it is among the most recently read; the same bytes are the same transcript, so an
    entry can never be stale. A result over a quarter of the budget is parsed each time.
    """
    column = bytes(column)
    return _TRANSCRIPTS.get(
        column,
        lambda: Transcript.from_json(zlib.decompress(column).decode()),
        lambda _: len(column),
    )


def operation_of(row: RowMapping) -> Operation:
    """The operation an `operations` row holds, its result decompressed."""
    result = row["result"]
    return Operation(
        id=row["id"],
        folder_id=row["folder_id"],
        created_by=row["created_by"],
        api=ApiVersion(row["api"]),
        spec=spec_of(row["spec"]),
        source_uri=row["source_uri"],
        created_at=row["created_at"],
        modified_at=row["modified_at"],
        state=OperationState(row["state"]),
        progress=Progress(
            float(row["processed_seconds"]), float(row["total_seconds"]), row["stage"]
        ),
        result=None if result is None else transcript_of(result),
        error=None
        if row["error_code"] is None
        else ErrorInfo(row["error_code"], row["error_message"]),
        done_at=row["done_at"],
        cancel_requested=row["cancel_requested"],
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        attempts=row["attempts"],
    )
