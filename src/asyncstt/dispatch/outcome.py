"""OutcomeWriter: what a run leaves in the store as it ends, and the metrics of that end."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from asyncstt.errors import AsyncSttError, Cancelled
from asyncstt.observability.metrics import Metrics
from asyncstt.operation import Operation
from asyncstt.recognition import Transcript
from asyncstt.store.base import OperationStore

log = logging.getLogger(__name__)


class OutcomeWriter:
    """Writes a run's result or error, or leaves its operation: handed back to the queue when the dispatcher
    stops, untouched when the lease is lost."""

    def __init__(
        self,
        store: OperationStore,
        owner: str,
        stopping: threading.Event,
        clock: Callable[[], datetime],
        metrics: Metrics | None,
    ) -> None:
        self._store = store
        self._owner = owner
        self._stopping = stopping
        self._clock = clock
        self._metrics = metrics

    def finish(
        self,
        operation: Operation,
        transcript: Transcript | None = None,
        error: AsyncSttError | None = None,
    ) -> None:
        now = self._clock()
        extra = {"operation_id": operation.id}
        written = self._store.finish(
            operation.id,
            self._owner,
            now,
            result=transcript,
            error=error.to_info() if error else None,
        )
        if not written:
            log.warning("result of %s not written: the lease was lost", operation.id, extra=extra)
            return
        # A caller's error (a bad file, a refused request) is the service working as it should; only the
        # server's own faults are worth an operator's attention.
        level = logging.INFO if error is None or error.is_caller_error else logging.WARNING
        log.log(
            level,
            "finished %s: %s",
            operation.id,
            "ok" if error is None else error.message,
            extra=extra,
        )
        if self._metrics is None:
            return
        if error is None:
            outcome = "succeeded"
        elif isinstance(error, Cancelled):
            outcome = "cancelled"
        else:
            outcome = "failed"
            self._metrics.error(error.code, "operation")
        self._metrics.operation_finished(outcome, (now - operation.created_at).total_seconds())

    def leave(self, operation: Operation, lease_lost: bool) -> None:
        """Put an operation this dispatcher is leaving back in the queue, unless another holds it already."""
        extra = {"operation_id": operation.id}
        if lease_lost or not self._stopping.is_set():
            self._lost(operation)
            return
        try:
            released = self._store.release(operation.id, self._owner, self._clock())
        except Exception:
            log.exception(
                "handing %s back failed; its lease will run out instead", operation.id, extra=extra
            )
            return
        log.info(
            "handed %s back%s",
            operation.id,
            "" if released else ": it was gone already",
            extra=extra,
        )

    def _lost(self, operation: Operation) -> None:
        """The store refused a write of the lease holder: the lease ran out, or the operation was deleted."""
        extra = {"operation_id": operation.id}
        try:
            deleted = self._store.get(operation.id) is None
        except Exception:
            deleted = False
        if deleted:
            log.info("left %s: it was deleted", operation.id, extra=extra)
            return
        log.warning(
            "left %s: its lease ran out and another dispatcher may hold it",
            operation.id,
            extra=extra,
        )
        if self._metrics is not None:
            self._metrics.lease_expired()
