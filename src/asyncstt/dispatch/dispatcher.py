"""The dispatcher: claims operations from the store and carries each one through to its result.

It holds a lease on every operation it works on, and saves each slice's result in the store as it finishes. If
it dies, the lease runs out and any dispatcher, this one after a restart included, claims the operation again
and recognises only the slices not saved yet: nothing a client was told is lost, little work is redone.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from asyncstt import ids
from asyncstt.audio.probe import AudioInfo, probe
from asyncstt.clock import utcnow
from asyncstt.dispatch.lease import LeaseKeeper
from asyncstt.errors import AsyncSttError, Cancelled, Internal
from asyncstt.executor.base import Executor, TaskHandle
from asyncstt.languages import AUTO
from asyncstt.observability.metrics import Metrics
from asyncstt.operation import INLINE_SOURCE, Operation, Progress
from asyncstt.pipeline.assemble import assemble, check_decoded_limits, decoded_duration
from asyncstt.pipeline.plan import SliceSpec, plan_cut_points, plan_id, plan_slices
from asyncstt.pipeline.priority import slice_priority
from asyncstt.pipeline.task import SliceJob, SliceResult, recognise_slice
from asyncstt.recognition import Transcript
from asyncstt.settings import Settings
from asyncstt.store.base import OperationStore

log = logging.getLogger(__name__)

#: How often a running operation is checked for a cancel request, in seconds.
CANCEL_CHECK_SECONDS = 0.5


class AudioFetcher:
    """Copies an operation's audio to a local file: inline bytes from the store, links through the sources."""

    def __init__(
        self,
        store: OperationStore,
        fetch_link: Callable[[str, Path, int, str], int],
        max_bytes: int,
    ) -> None:
        self._store = store
        self._fetch_link = fetch_link
        self._max_bytes = max_bytes

    def fetch(self, operation: Operation, destination: Path) -> None:
        if operation.source_uri == INLINE_SOURCE:
            data = self._store.inline_audio(operation.id)
            if data is None:
                raise Internal(
                    f"the inline audio of operation {operation.id} is missing from the store"
                )
            destination.write_bytes(data)
        else:
            self._fetch_link(
                operation.source_uri, destination, self._max_bytes, operation.folder_id
            )


@dataclass
class _Run:
    """What the dispatcher knows about one operation while it works on it."""

    operation: Operation
    keeper: LeaseKeeper
    workdir: Path
    #: `plan_id` of the slicing, once planned: slices are saved under it.
    plan: str = ""

    @property
    def log_extra(self) -> dict[str, str]:
        return {"operation_id": self.operation.id}


class Dispatcher:
    def __init__(
        self,
        store: OperationStore,
        executor: Executor,
        fetcher: AudioFetcher,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._executor = executor
        self._fetcher = fetcher
        self._settings = settings
        self._execution = settings.execution
        self._clock = clock
        self.owner = ids.new_instance_id("d")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._slots = threading.Semaphore(self._execution.max_active_operations)
        self._pool = ThreadPoolExecutor(
            max_workers=self._execution.max_active_operations, thread_name_prefix="operation"
        )
        self._loop = threading.Thread(target=self._claim_loop, name="dispatcher", daemon=True)
        self._last_sweep = 0.0

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

    def _claim_loop(self) -> None:
        while not self._stop.is_set():
            self._sweep_if_due()
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
                self._wake.wait(self._execution.poll_interval_seconds)
                continue
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

    def _sweep_if_due(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < self._execution.sweep_interval_seconds:
            return
        self._last_sweep = now
        self.sweep()

    def sweep(self) -> list[str]:
        """Purge operations whose retention has run out, with their cached audio, and forget idempotency
        keys older than their window."""
        now = self._clock()
        window = timedelta(seconds=self._execution.idempotency_window_seconds)
        try:
            self._store.forget_idempotency_keys_before(now - window)
        except Exception:
            log.exception("forgetting expired idempotency keys failed")
        cutoff = now.timestamp() - self._settings.limits.retention_seconds
        try:
            purged = self._store.purge_finished_before(datetime.fromtimestamp(cutoff, now.tzinfo))
        except Exception:
            log.exception("purging expired operations failed")
            return []
        for operation_id in purged:
            shutil.rmtree(self._settings.cache_dir / operation_id, ignore_errors=True)
        if purged:
            log.info("purged %d expired operations", len(purged))
        return purged

    def _run_and_release(self, operation: Operation) -> None:
        try:
            self.process(operation)
        finally:
            self._slots.release()

    def process(self, operation: Operation) -> None:
        """Carry a claimed operation through to its result or error (or abandon it if the lease is lost)."""
        workdir = self._settings.cache_dir / operation.id
        keeper = LeaseKeeper(
            self._store, operation.id, self.owner, self._execution.lease_seconds, self._clock
        )
        with keeper:
            run = _Run(operation, keeper, workdir)
            try:
                transcript = self._recognise(run)
            except _LeaseLost:
                self._hand_back(run)
                return
            except AsyncSttError as error:
                self._finish(run, error=error)
            except Exception as error:
                log.exception("operation %s failed", operation.id, extra=run.log_extra)
                self._finish(
                    run, error=Internal(f"recognition failed: {type(error).__name__}: {error}")
                )
            else:
                self._finish(run, transcript=transcript)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)

    def _hand_back(self, run: _Run) -> None:
        """Put an operation this dispatcher is leaving back in the queue, unless another holds it already."""
        operation_id = run.operation.id
        if run.keeper.lost.is_set() or not self._stop.is_set():
            self._lost(run)
            return
        try:
            released = self._store.release(operation_id, self.owner, self._clock())
        except Exception:
            log.exception(
                "handing %s back failed; its lease will run out instead",
                operation_id,
                extra=run.log_extra,
            )
            return
        log.info(
            "handed %s back%s",
            operation_id,
            "" if released else ": it was gone already",
            extra=run.log_extra,
        )

    def _lost(self, run: _Run) -> None:
        """The store refused a write of the lease holder: the lease ran out, or the operation was deleted."""
        try:
            deleted = self._store.get(run.operation.id) is None
        except Exception:
            deleted = False
        if deleted:
            log.info("left %s: it was deleted", run.operation.id, extra=run.log_extra)
            return
        log.warning(
            "left %s: its lease ran out and another dispatcher may hold it",
            run.operation.id,
            extra=run.log_extra,
        )
        if self._metrics is not None:
            self._metrics.lease_expired()

    def _finish(
        self, run: _Run, transcript: Transcript | None = None, error: AsyncSttError | None = None
    ) -> None:
        now = self._clock()
        written = self._store.finish(
            run.operation.id,
            self.owner,
            now,
            result=transcript,
            error=error.to_info() if error else None,
        )
        if not written:
            log.warning(
                "result of %s not written: the lease was lost",
                run.operation.id,
                extra=run.log_extra,
            )
            return
        log.info(
            "finished %s: %s",
            run.operation.id,
            "ok" if error is None else error.message,
            extra=run.log_extra,
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
        self._metrics.operation_finished(outcome, (now - run.operation.created_at).total_seconds())

    def _progress(self, run: _Run, progress: Progress) -> None:
        if self._stop.is_set() or not self._store.set_progress(
            run.operation.id, self.owner, progress, self._clock()
        ):
            raise _LeaseLost

    def _recognise(self, run: _Run) -> Transcript:
        operation = run.operation
        spec = operation.spec
        run.workdir.mkdir(parents=True, exist_ok=True)
        audio = run.workdir / "audio"
        self._progress(run, Progress(stage="fetching"))
        self._fetcher.fetch(operation, audio)
        self._progress(run, Progress(stage="probing"))
        info = probe(
            audio,
            spec.audio_encoding,
            spec.sample_rate_hertz,
            spec.audio_channel_count,
            self._settings.limits,
        )
        cuts = plan_cut_points(
            audio, info, self._execution.slice_seconds, self._execution.snap_window_seconds
        )
        slices = plan_slices(info, cuts)
        run.plan = plan_id(info, audio.stat().st_size, cuts, spec, self._settings.engine)
        # Slices are saved only under a lease, so a first attempt has none: its first slice starts sooner.
        saved = self._saved_slices(run, slices) if operation.attempts > 1 else []
        total = info.duration_seconds * info.channels
        if saved:
            log.info(
                "%s: %d of %d slices were saved by an earlier attempt",
                operation.id,
                len(saved),
                len(slices),
                extra=run.log_extra,
            )
        language = None if spec.language == AUTO else spec.language
        # The claim stamped modified_at: a deferred operation's slices rise with its age at that moment.
        priority = slice_priority(
            spec.priority,
            operation.created_at,
            operation.modified_at,
            self._execution.deferred_deadline_seconds,
        )
        done_indexes = {result.slice.index for result in saved}
        submitted: dict[TaskHandle, _Submitted] = {}
        for item in slices:
            if item.index in done_indexes:
                continue
            handle = self._executor.submit(
                recognise_slice,
                SliceJob(
                    operation.id,
                    str(audio.resolve()),
                    info,
                    item,
                    spec,
                    language,
                    self._settings.engine,
                ),
                priority=priority,
                key=f"slice-{operation.id}-{operation.attempts}-{item.index}",
            )
            submitted[handle] = _Submitted(item, time.monotonic())
        # After the submits, so that the first slice does not wait for this write.
        done_seconds = min(total, sum(result.decoded_seconds for result in saved))
        try:
            self._progress(run, Progress(done_seconds, total, "recognising"))
        except _LeaseLost:
            for handle in submitted:
                handle.cancel()
            raise
        results = self._collect(run, submitted, info, saved)
        duration = decoded_duration(results, info.channels)
        check_decoded_limits(duration, info, self._settings.limits)
        self._progress(run, Progress(total, total, "assembling"))
        return assemble(results, info, duration)

    def _saved_slices(self, run: _Run, slices: list[SliceSpec]) -> list[SliceResult]:
        """Results an earlier attempt saved under this plan, for slices this plan has."""
        planned = {item.index: item for item in slices}
        results = []
        for index, data in sorted(self._store.saved_slices(run.operation.id, run.plan).items()):
            try:
                result = SliceResult.from_bytes(data)
            except (ValueError, KeyError, TypeError):
                log.warning(
                    "%s: saved slice %d is unreadable; recognising it again",
                    run.operation.id,
                    index,
                    extra=run.log_extra,
                )
                continue
            if planned.get(index) == result.slice:
                results.append(result)
        return results

    def _collect(
        self,
        run: _Run,
        submitted: dict[TaskHandle, _Submitted],
        info: AudioInfo,
        saved: list[SliceResult],
    ) -> list[SliceResult]:
        """Wait for every slice while watching the lease, cancellation and progress; save each result."""
        pending = dict(submitted)
        results = list(saved)
        total = info.duration_seconds * info.channels
        last_cancel_check = time.monotonic()
        try:
            while pending:
                finished = [handle for handle in pending if handle.done()]
                for handle in finished:
                    started = pending.pop(handle).at
                    result: SliceResult = handle.result()
                    if self._metrics is not None:
                        self._metrics.slice_finished(
                            result.decoded_seconds, time.monotonic() - started
                        )
                    results.append(result)
                    self._save(run, result)
                if finished:
                    processed = min(total, sum(r.decoded_seconds for r in results))
                    self._progress(run, Progress(processed, total, "recognising"))
                if run.keeper.lost.is_set() or self._stop.is_set():
                    raise _LeaseLost
                if time.monotonic() - last_cancel_check >= CANCEL_CHECK_SECONDS:
                    last_cancel_check = time.monotonic()
                    current = self._store.get(run.operation.id)
                    if current is None or current.cancel_requested:
                        raise Cancelled()
                if pending:
                    time.sleep(0.05)
        except BaseException:
            for handle in pending:
                handle.cancel()
            raise
        return results

    def _save(self, run: _Run, result: SliceResult) -> None:
        saved = self._store.save_slice(
            run.operation.id,
            self.owner,
            run.plan,
            result.slice.index,
            result.to_bytes(),
            self._clock(),
        )
        if not saved:
            raise _LeaseLost


@dataclass(frozen=True)
class _Submitted:
    """A slice handed to the executor, and when (monotonic seconds), for its wall time."""

    slice: SliceSpec
    at: float


class _LeaseLost(Exception):
    """Stop working on the operation without writing anything.

    Either another dispatcher owns it now, or this one is stopping and leaves it for whoever claims it next.
    """
