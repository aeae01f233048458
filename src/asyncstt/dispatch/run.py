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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from asyncstt.audio.probe import AudioInfo
from asyncstt.dispatch.checkpoints import SliceCheckpoints
from asyncstt.dispatch.lease import LeaseKeeper
from asyncstt.dispatch.outcome import OutcomeWriter
from asyncstt.dispatch.slice_pipeline import SlicePipeline
from asyncstt.dispatch.timings import RunTimings
from asyncstt.errors import AsyncSttError, Cancelled, Internal
from asyncstt.executor.base import Executor, TaskHandle
from asyncstt.languages import AUTO
from asyncstt.observability.metrics import Metrics
from asyncstt.operation import Operation, Progress
from asyncstt.pipeline.assemble import assemble, check_decoded_limits, decoded_duration
from asyncstt.pipeline.plan import PlanItem, Planning, Silence, SliceSpec, plan_id
from asyncstt.pipeline.priority import slice_priority
from asyncstt.pipeline.task import SliceJob, SliceResult
from asyncstt.recognition import Transcript
from asyncstt.settings import Settings
from asyncstt.sources.fetcher import AudioFetcher
from asyncstt.speakers.labeling import require_mono
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
    timings: RunTimings = field(default_factory=RunTimings)

    @property
    def log_extra(self) -> dict[str, str]:
        return {"operation_id": self.operation.id}


@dataclass(frozen=True)
class _Submitted:
    """A slice handed to the executor, and when (monotonic seconds), for its wall time."""

    slice: SliceSpec
    at: float


class _Slices:
    """What the plan and the recognised slices have covered of a file so far."""

    def __init__(self, info: AudioInfo, began: float) -> None:
        self.info = info
        #: When the run began (monotonic seconds).
        self.began = began
        self.total = info.duration_seconds * info.channels
        self.results: list[SliceResult] = []
        #: Seconds of each channel that the plan left out as silence.
        self.silence = [0.0] * info.channels
        #: How far into the file (seconds of one channel) the plan has gone.
        self.reached = 0.0
        self._processed = 0.0

    def skip(self, silence: Silence) -> None:
        self.silence[silence.channel] += silence.seconds
        self._processed += silence.seconds
        self.reached = max(self.reached, silence.end)

    def plan(self, planned: SliceSpec) -> None:
        self.reached = max(self.reached, planned.end or planned.start)

    def add(self, result: SliceResult) -> None:
        """A slice recognised, or reused from a checkpoint."""
        self.results.append(result)
        self._processed += result.decoded_seconds

    def progress(self) -> Progress:
        return Progress(min(self.total, self._processed), self.total, "recognising")


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
                transcript = self._recognise_and_clean_up(run)
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
                log.info("%s took %s", operation.id, run.timings.describe(), extra=run.log_extra)
                if self._metrics is not None:
                    self._metrics.stages(run.timings.stages())

    def _recognise_and_clean_up(self, run: _Run) -> Transcript:
        """`_recognise`, with the fetched audio removed before the outcome is written, so that an operation seen
        done has left nothing in the cache."""
        try:
            return self._recognise(run)
        finally:
            shutil.rmtree(run.workdir, ignore_errors=True)

    def _recognise(self, run: _Run) -> Transcript:
        operation = run.operation
        spec = operation.spec
        timings = run.timings
        began = self._monotonic()
        run.workdir.mkdir(parents=True, exist_ok=True)
        audio = run.workdir / "audio"
        self._progress(run, Progress(stage="fetching"))
        self._fetcher.fetch(operation, audio)
        fetched = self._monotonic()
        timings.fetch = fetched - began
        self._progress(run, Progress(stage="probing"))
        info = self._pipeline.probe(
            audio,
            spec.audio_encoding,
            spec.sample_rate_hertz,
            spec.audio_channel_count,
            self._settings.limits,
        )
        timings.probe = self._monotonic() - fetched
        if spec.speaker_labeling:
            require_mono(info.channels)
        planning = Planning.of(self._settings)
        checkpoints = SliceCheckpoints(
            self._store,
            operation.id,
            self._owner,
            plan_id(info, audio.stat().st_size, planning, spec, self._settings.engine),
            self._clock,
        )
        # Slices are saved only under a lease, so a first attempt has none: its first slice starts sooner.
        saved = checkpoints.saved() if operation.attempts > 1 else {}
        language = None if spec.language == AUTO else spec.language
        # The claim stamped modified_at: a deferred operation's slices rise with its age at that moment.
        priority = slice_priority(
            spec.priority,
            operation.created_at,
            operation.modified_at,
            self._execution.deferred_deadline_seconds,
        )

        def submit(item: SliceSpec) -> TaskHandle:
            job = SliceJob(
                operation.id,
                str(audio.resolve()),
                info,
                item,
                spec,
                language,
                self._settings.engine,
            )
            return self._executor.submit(
                self._pipeline.recognise_slice,
                job,
                priority=priority,
                key=f"slice-{operation.id}-{operation.attempts}-{item.index}",
            )

        slices = _Slices(info, began)
        self._run_slices(
            run, self._pipeline.plan(audio, info, planning), submit, checkpoints, saved, slices
        )
        if timings.reused:
            log.info(
                "%s: %d of %d slices were saved by an earlier attempt",
                operation.id,
                timings.reused,
                len(slices.results),
                extra=run.log_extra,
            )
        duration = decoded_duration(slices.results, info.channels, slices.silence)
        check_decoded_limits(duration, info, self._settings.limits)
        self._progress(run, Progress(slices.total, slices.total, "assembling"))
        assembling = self._monotonic()
        transcript = assemble(slices.results, info, duration)
        done = self._monotonic()
        timings.assembly = done - assembling
        timings.run = done - began
        return transcript

    def _run_slices(
        self,
        run: _Run,
        plan: Iterable[PlanItem],
        submit: Callable[[SliceSpec], TaskHandle],
        checkpoints: SliceCheckpoints,
        saved: dict[int, SliceResult],
        slices: _Slices,
    ) -> None:
        """Plan the file step by step while the slices already planned are recognised, and wait for them all,
        watching the lease, cancellation and progress; save each result as it comes.

        Each planning step is short (one window of audio), so the first slices start at once and a cancel is
        seen between steps as it is between results.
        """
        planned = iter(plan)
        planning = True
        pending: dict[TaskHandle, _Submitted] = {}
        recognising = False
        last_cancel_check = self._monotonic()
        try:
            while planning or pending:
                if planning:
                    planning = self._plan_step(
                        run, planned, submit, checkpoints, saved, slices, pending
                    )
                    # After the first submit, so that the first slice does not wait for this write.
                    if not recognising and (pending or not planning):
                        recognising = True
                        self._progress(run, slices.progress())
                if self._collect_finished(run, checkpoints, slices, pending):
                    self._progress(run, slices.progress())
                if run.keeper.lost.is_set() or self._stopping.is_set():
                    raise _LeaseLost
                if self._monotonic() - last_cancel_check >= CANCEL_CHECK_SECONDS:
                    last_cancel_check = self._monotonic()
                    current = self._store.get(run.operation.id)
                    if current is None or current.cancel_requested:
                        raise Cancelled()
                if pending and not planning:
                    time.sleep(COLLECT_POLL_SECONDS)
        except BaseException:
            for handle in pending:
                handle.cancel()
            raise

    def _plan_step(
        self,
        run: _Run,
        planned: Iterator[PlanItem],
        submit: Callable[[SliceSpec], TaskHandle],
        checkpoints: SliceCheckpoints,
        saved: dict[int, SliceResult],
        slices: _Slices,
        pending: dict[TaskHandle, _Submitted],
    ) -> bool:
        """Take the plan's next slice or silence: submit the slice, or reuse its saved result. False: planned."""
        timings = run.timings
        stepped = self._monotonic()
        item = next(planned, None)
        timings.plan += self._monotonic() - stepped
        if item is None:
            return False
        if isinstance(item, Silence):
            slices.skip(item)
            timings.skipped_seconds += item.seconds
        else:
            slices.plan(item)
            reused = checkpoints.reusable(saved, item)
            if reused is not None:
                slices.add(reused)
                timings.reused += 1
            else:
                pending[submit(item)] = _Submitted(item, self._monotonic())
                if not timings.first_slice:
                    timings.first_slice = self._monotonic() - slices.began
        # Headers can lie: a file far longer than its header said fails while it is being planned.
        check_decoded_limits(slices.reached, slices.info, self._settings.limits)
        return True

    def _collect_finished(
        self,
        run: _Run,
        checkpoints: SliceCheckpoints,
        slices: _Slices,
        pending: dict[TaskHandle, _Submitted],
    ) -> bool:
        """Take and save the results of the slices that finished; False when none had."""
        finished = [handle for handle in pending if handle.done()]
        for handle in finished:
            submitted = pending.pop(handle)
            result: SliceResult = handle.result()
            wall = self._monotonic() - submitted.at
            run.timings.slice_done(result, wall)
            if self._metrics is not None:
                self._metrics.slice_finished(result.decoded_seconds, wall)
            slices.add(result)
            saving = self._monotonic()
            if not checkpoints.save(result):
                raise _LeaseLost
            run.timings.checkpoints += self._monotonic() - saving
        return bool(finished)

    def _progress(self, run: _Run, progress: Progress) -> None:
        if self._stopping.is_set() or not self._store.set_progress(
            run.operation.id, self._owner, progress, self._clock()
        ):
            raise _LeaseLost
