"""The Operation: the durable record of one recognition job and its life cycle."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from asyncstt.errors import ErrorInfo
from asyncstt.recognition import Priority, RecognitionSpec, Transcript

#: `Operation.source_uri` of audio that came inline with the request and is kept in the store.
INLINE_SOURCE = "inline:"


class OperationState(enum.Enum):
    """Where an operation is in its life."""

    #: Accepted and waiting for a dispatcher.
    QUEUED = "QUEUED"
    #: Claimed by a dispatcher that holds a lease on it.
    RUNNING = "RUNNING"
    #: Finished with a transcript.
    SUCCEEDED = "SUCCEEDED"
    #: Finished with an error (cancellation included).
    FAILED = "FAILED"

    @property
    def done(self) -> bool:
        return self in (OperationState.SUCCEEDED, OperationState.FAILED)


class ApiVersion(enum.Enum):
    """Which front door created the operation; it decides how the operation is rendered."""

    V2 = "v2"
    V3 = "v3"


@dataclass(frozen=True)
class Progress:
    """How far a running operation has got. Seconds are summed over channels."""

    processed_seconds: float = 0.0
    total_seconds: float = 0.0
    #: One of: queued, fetching, probing, recognising, assembling, done.
    stage: str = "queued"


@dataclass(frozen=True)
class Operation:
    """One recognition job as the store keeps it."""

    id: str
    folder_id: str
    created_by: str
    api: ApiVersion
    spec: RecognitionSpec
    #: Where the audio is: `s3://…`, `https://…`, `file://…` or `inline:` for bytes kept in the store.
    source_uri: str
    created_at: datetime
    modified_at: datetime
    state: OperationState = OperationState.QUEUED
    progress: Progress = Progress()
    result: Transcript | None = None
    error: ErrorInfo | None = None
    done_at: datetime | None = None
    cancel_requested: bool = False
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    attempts: int = 0

    @property
    def done(self) -> bool:
        return self.state.done

    @property
    def priority(self) -> Priority:
        return self.spec.priority

    def evolve(self, **changes: object) -> Operation:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Idempotency:
    """An `Idempotency-Key` sent with a submit, and a hash of the request it came with."""

    key: str
    #: SHA-256 hex digest of the request body.
    request_hash: str
