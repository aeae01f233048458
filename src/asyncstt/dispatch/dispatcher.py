"""The dispatcher: claims operations from the store and carries each one through to its result.

It holds a lease on every operation it works on, and saves each slice's result in the store as it finishes. If
it dies, the lease runs out and any dispatcher, this one after a restart included, claims the operation again
and recognises only the slices not saved yet: nothing a client was told is lost, little work is redone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from asyncstt import ids
from asyncstt.clock import utcnow
from asyncstt.dispatch.run import OperationRunner
from asyncstt.dispatch.slice_pipeline import SlicePipeline
from asyncstt.dispatch.sweeper import Sweeper
from asyncstt.executor.base import Executor
from asyncstt.observability.metrics import Metrics
from asyncstt.operation import Operation
from asyncstt.settings import Settings
from asyncstt.sources.fetcher import AudioFetcher
from asyncstt.store.base import OperationStore

log = logging.getLogger(__name__)


class Dispatcher:
    """Claims queued operations while it has a free slot (`max_active_operations`), runs each on a thread of
    its own, and sweeps expired operations every `sweep_interval_seconds`."""

    def __init__(
        self,
        store: OperationStore,
        executor: Executor,
        fetcher: AudioFetcher,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        *,
        metrics: Metrics | None = None,
        pipeline: SlicePipeline | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`pipeline` probes, plans and recognises, the real steps unless given; `monotonic` times cancel
        checks, slices and sweeps."""
        self._store = store
        self._metrics = metrics
        self._clock = clock
        self._execution = settings.execution
        self.owner = ids.new_instance_id("d")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._runner = OperationRunner(
            store,
            executor,
            fetcher,
            settings,
            pipeline or SlicePipeline(),
            self.owner,
            self._stop,
            clock,
            monotonic,
            metrics,
        )
        self._sweeper = Sweeper(store, settings, clock, monotonic)
        self._slots = threading.Semaphore(self._execution.max_active_operations)
        self._pool = ThreadPoolExecutor(
            max_workers=self._execution.max_active_operations, thread_name_prefix="operation"
        )
        self._loop = threading.Thread(target=self._claim_loop, name="dispatcher", daemon=True)

    def start(self) -> None:
        self._loop.start()

    def wake(self) -> None:
        """Look for queued operations now rather than at the next poll (called when one is submitted)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; operations in flight go back to the queue at their next check, so another
        dispatcher (or this server after a restart) claims them at once rather than when a lease runs out.
        Their saved slices stay valid for whoever claims them next."""
        self._stop.set()
        self._wake.set()
        if self._loop.is_alive():
            self._loop.join(timeout)
        # Not cancel_futures: an operation claimed but not started yet must still run far enough to be handed
        # back, which it does at its first progress write.
        self._pool.shutdown(wait=True)

    def process(self, operation: Operation) -> None:
        """Carry an operation this dispatcher has claimed through to its result, on the calling thread."""
        self._runner.process(operation)

    def _claim_loop(self) -> None:
        pause = self._execution.poll_interval_seconds
        while not self._stop.is_set():
            self._sweeper.sweep_if_due()
            if not self._slots.acquire(timeout=self._execution.poll_interval_seconds):
                continue
            # Cleared before the claim, so a submit that lands during it wakes the wait below at once.
            self._wake.clear()
            try:
                claim = self._store.claim(
                    self.owner,
                    self._execution.lease_seconds,
                    self._clock(),
                    self._execution.deferred_deadline_seconds,
                )
            except Exception:
                log.exception("claiming an operation failed")
                claim = None
            if claim is None:
                self._slots.release()
                self._wake.wait(pause)
                pause = self._idle_pause(pause)
                continue
            pause = self._execution.poll_interval_seconds
            operation = claim.operation
            extra = {"operation_id": operation.id}
            if claim.took_over:
                log.warning(
                    "took %s over: the lease of its previous dispatcher had run out",
                    operation.id,
                    extra=extra,
                )
                if self._metrics is not None:
                    self._metrics.lease_expired()
            log.info("claimed %s (attempt %d)", operation.id, operation.attempts, extra=extra)
            self._pool.submit(self._run_and_release, operation)

    def _idle_pause(self, pause: float) -> float:
        """The pause after one more empty claim: doubled, up to `idle_poll_interval_seconds`. Five claims a
        second, each a store query, would keep an idle server busy looking for what its own submits wake it for."""
        longest = max(
            self._execution.idle_poll_interval_seconds, self._execution.poll_interval_seconds
        )
        return min(pause * 2, longest)

    def _run_and_release(self, operation: Operation) -> None:
        try:
            self._runner.process(operation)
        finally:
            self._slots.release()
