"""OperationRunner: carries a claimed operation through fetch, probe, plan and its slices to a result or error.

It saves each slice's result as it finishes. A run that stops early (the dispatcher stopping, the lease lost)
writes nothing more; whoever claims the operation next recognises only the slices not saved under the same
plan.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asyncstt.dispatch.checkpoints import SliceCheckpoints
from asyncstt.dispatch.lease import LeaseKeeper
from asyncstt.dispatch.outcome import OutcomeWriter
from asyncstt.dispatch.slice_pipeline import SlicePipeline
from asyncstt.errors import AsyncSttError, Cancelled, Internal
from asyncstt.executor.base import Executor, TaskHandle
from asyncstt.languages import AUTO
from asyncstt.observability.metrics import Metrics
from asyncstt.operation import Operation, Progress
from asyncstt.pipeline.assemble import assemble, check_decoded_limits, decoded_duration
from asyncstt.pipeline.plan import SliceSpec, plan_id, plan_slices
from asyncstt.pipeline.priority import slice_priority
from asyncstt.pipeline.task import SliceJob, SliceResult
from asyncstt.recognition import Transcript
from asyncstt.settings import Settings
from asyncstt.sources.fetcher import AudioFetcher
from asyncstt.store.base import OperationStore

log = logging.getLogger(__name__)

#: How often a running operation is checked for a cancel request, in seconds.
CANCEL_CHECK_SECONDS = 0.5
#: How often a running operation looks for finished slices, in seconds.
COLLECT_POLL_SECONDS = 0.05


@dataclass
class _Run:
    """What the runner knows about one operation while it works on it."""

    operation: Operation
    keeper: LeaseKeeper
    workdir: Path

    @property
    def log_extra(self) -> dict[str, str]:
        return {"operation_id": self.operation.id}


@dataclass(frozen=True)
class _Submitted:
    """A slice handed to the executor, and when (monotonic seconds), for its wall time."""

    slice: SliceSpec
    at: float


class _LeaseLost(Exception):
    """Stop working on the operation without writing anything.

    Either another dispatcher owns it now, or this one is stopping and leaves it for whoever claims it next.
    """


class OperationRunner:
    """Runs the operations one dispatcher claims, each on a thread of the dispatcher's own."""

    def __init__(
        self,
        store: OperationStore,
        executor: Executor,
        fetcher: AudioFetcher,
        settings: Settings,
        pipeline: SlicePipeline,
        owner: str,
        stopping: threading.Event,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        metrics: Metrics | None,
    ) -> None:
        """`owner` is the dispatcher's lease owner id; once `stopping` is set, runs hand their operations back."""
        self._store = store
        self._executor = executor
        self._fetcher = fetcher
        self._settings = settings
        self._execution = settings.execution
        self._pipeline = pipeline
        self._owner = owner
        self._stopping = stopping
        self._clock = clock
        self._monotonic = monotonic
        self._metrics = metrics
        self._outcome = OutcomeWriter(store, owner, stopping, clock, metrics)

    def process(self, operation: Operation) -> None:
        """Carry a claimed operation through to its result or error (or abandon it if the lease is lost)."""
        workdir = self._settings.cache_dir / operation.id
        keeper = LeaseKeeper(
            self._store, operation.id, self._owner, self._execution.lease_seconds, self._clock
        )
        with keeper:
            run = _Run(operation, keeper, workdir)
            try:
                transcript = self._recognise(run)
            except _LeaseLost:
                self._outcome.leave(operation, lease_lost=keeper.lost.is_set())
                return
            except AsyncSttError as error:
                self._outcome.finish(operation, error=error)
            except Exception as error:
                log.exception("operation %s failed", operation.id, extra=run.log_extra)
                self._outcome.finish(
                    operation,
                    error=Internal(f"recognition failed: {type(error).__name__}: {error}"),
                )
            else:
                self._outcome.finish(operation, transcript=transcript)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)

    def _recognise(self, run: _Run) -> Transcript:
        operation = run.operation
        spec = operation.spec
        run.workdir.mkdir(parents=True, exist_ok=True)
        audio = run.workdir / "audio"
        self._progress(run, Progress(stage="fetching"))
        self._fetcher.fetch(operation, audio)
        self._progress(run, Progress(stage="probing"))
        info = self._pipeline.probe(
            audio,
            spec.audio_encoding,
            spec.sample_rate_hertz,
            spec.audio_channel_count,
            self._settings.limits,
        )
        cuts = self._pipeline.plan_cut_points(
            audio, info, self._execution.slice_seconds, self._execution.snap_window_seconds
        )
        slices = plan_slices(info, cuts)
        checkpoints = SliceCheckpoints(
            self._store,
            operation.id,
            self._owner,
            plan_id(info, audio.stat().st_size, cuts, spec, self._settings.engine),
            self._clock,
        )
        # Slices are saved only under a lease, so a first attempt has none: its first slice starts sooner.
        saved = checkpoints.saved(slices) if operation.attempts > 1 else []
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
            job = SliceJob(
                operation.id,
                str(audio.resolve()),
                info,
                item,
                spec,
                language,
                self._settings.engine,
            )
            handle = self._executor.submit(
                self._pipeline.recognise_slice,
                job,
                priority=priority,
                key=f"slice-{operation.id}-{operation.attempts}-{item.index}",
            )
            submitted[handle] = _Submitted(item, self._monotonic())
        # After the submits, so that the first slice does not wait for this write.
        done_seconds = min(total, sum(result.decoded_seconds for result in saved))
        try:
            self._progress(run, Progress(done_seconds, total, "recognising"))
        except _LeaseLost:
            for handle in submitted:
                handle.cancel()
            raise
        results = self._collect(run, checkpoints, submitted, total, saved)
        duration = decoded_duration(results, info.channels)
        check_decoded_limits(duration, info, self._settings.limits)
        self._progress(run, Progress(total, total, "assembling"))
        return assemble(results, info, duration)

    def _collect(
        self,
        run: _Run,
        checkpoints: SliceCheckpoints,
        submitted: dict[TaskHandle, _Submitted],
        total: float,
        saved: list[SliceResult],
    ) -> list[SliceResult]:
        """Wait for every slice while watching the lease, cancellation and progress; save each result."""
        pending = dict(submitted)
        results = list(saved)
        last_cancel_check = self._monotonic()
        try:
            while pending:
                finished = [handle for handle in pending if handle.done()]
                for handle in finished:
                    started = pending.pop(handle).at
                    result: SliceResult = handle.result()
                    if self._metrics is not None:
                        self._metrics.slice_finished(
                            result.decoded_seconds, self._monotonic() - started
                        )
                    results.append(result)
                    if not checkpoints.save(result):
                        raise _LeaseLost
                if finished:
                    processed = min(total, sum(r.decoded_seconds for r in results))
                    self._progress(run, Progress(processed, total, "recognising"))
                if run.keeper.lost.is_set() or self._stopping.is_set():
                    raise _LeaseLost
                if self._monotonic() - last_cancel_check >= CANCEL_CHECK_SECONDS:
                    last_cancel_check = self._monotonic()
                    current = self._store.get(run.operation.id)
                    if current is None or current.cancel_requested:
                        raise Cancelled()
                if pending:
                    time.sleep(COLLECT_POLL_SECONDS)
        except BaseException:
            for handle in pending:
                handle.cancel()
            raise
        return results

    def _progress(self, run: _Run, progress: Progress) -> None:
        if self._stopping.is_set() or not self._store.set_progress(
            run.operation.id, self._owner, progress, self._clock()
        ):
            raise _LeaseLost
