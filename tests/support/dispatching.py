"""A dispatcher with its service and a real store, assembled as `asyncstt serve` does but without HTTP, for
the pipeline's integration tests; slices run on in-process threads, recognised by the real engine or a fast
stand-in."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from asyncstt.dispatch.dispatcher import Dispatcher
from asyncstt.dispatch.slice_pipeline import SliceFn, SlicePipeline
from asyncstt.engines.base import EngineCapabilities
from asyncstt.executor.threads import ThreadExecutor
from asyncstt.iam.auth import Principal
from asyncstt.observability.metrics import Metrics
from asyncstt.operation import ApiVersion, Operation
from asyncstt.pipeline.task import SliceJob, SliceResult
from asyncstt.recognition import AudioEncoding, RecognitionSpec
from asyncstt.service.operations import OperationService
from asyncstt.settings import Settings
from asyncstt.sources.fetcher import AudioFetcher
from asyncstt.sources.registry import SourceRegistry
from asyncstt.store.sql import SqlStore
from tests.factories import make_utterance

CALLER = Principal("folder-a", "sa-a")
STAND_IN = EngineCapabilities(
    name="stand-in", languages=frozenset({"en-US"}), detects_language=False
)


def stand_in(seconds: float = 0.0) -> SliceFn:
    """Recognises a slice as the one word `slice<index>`, after `seconds` of pretended work."""

    def recognise(job: SliceJob) -> SliceResult:
        time.sleep(seconds)
        end = job.info.duration_seconds if job.slice.end is None else job.slice.end
        word = f"slice{job.slice.index}"
        utterance = make_utterance(job.slice.channel, [(word, job.slice.start, end)], word)
        return SliceResult(
            job.slice, (utterance,), end - job.slice.start, channels=job.info.channels
        )

    return recognise


class RecordingExecutor:
    """A ThreadExecutor that records what is submitted and what runs, and can hold slices back."""

    def __init__(self) -> None:
        self._inner = ThreadExecutor(workers=1)
        self.submitted: list[tuple[str, int, int]] = []
        #: Every job submitted, in order.
        self.jobs: list[SliceJob] = []
        self.first_submit: float | None = None
        self.ran: list[int] = []
        #: Slices with an index at or over this wait for `gate` before they run.
        self.hold_from: int | None = None
        self.gate = threading.Event()

    def submit(self, fn: Callable[[Any], Any], arg: SliceJob, *, priority: int, key: str) -> Any:
        if self.first_submit is None:
            self.first_submit = time.monotonic()
        self.submitted.append((arg.operation_id, arg.slice.index, priority))
        self.jobs.append(arg)

        def run(job: SliceJob) -> SliceResult:
            if self.hold_from is not None and job.slice.index >= self.hold_from:
                self.gate.wait(30)
            self.ran.append(job.slice.index)
            result: SliceResult = fn(job)
            return result

        return self._inner.submit(run, arg, priority=priority, key=key)

    def forget_first_submit(self) -> None:
        self.first_submit = None

    def close(self) -> None:
        self.gate.set()
        self._inner.close()


class Harness:
    def __init__(
        self,
        settings: Settings,
        store: SqlStore,
        executor: RecordingExecutor,
        capabilities: EngineCapabilities,
        submit_clock: Callable[[], datetime],
        recognise: SliceFn | None = None,
    ) -> None:
        """`recognise` stands in for the real slice function."""
        self.settings = settings
        self.store = store
        self.executor = executor
        self.metrics = Metrics()
        sources = SourceRegistry(settings)
        fetcher = AudioFetcher(store.inline_audio, sources.fetch, settings.limits.max_file_bytes)
        pipeline = (
            SlicePipeline() if recognise is None else SlicePipeline(recognise_slice=recognise)
        )
        self.dispatcher = Dispatcher(
            store, executor, fetcher, settings, metrics=self.metrics, pipeline=pipeline
        )
        self.service = OperationService(
            store, sources, capabilities, settings, submit_clock, on_submit=self.dispatcher.wake
        )

    def submit(self, path: Path, **spec: Any) -> Operation:
        full = RecognitionSpec(language="en-US", audio_encoding=AudioEncoding.WAV, **spec)
        return self.service.submit(
            CALLER, full, uri=path.resolve().as_uri(), content=None, api=ApiVersion.V2
        )

    def wait(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.01)
        raise AssertionError("timed out")

    def done(self, operation_id: str, timeout: float = 60) -> Operation:
        self.wait(lambda: self._get(operation_id).done, timeout)
        return self._get(operation_id)

    def _get(self, operation_id: str) -> Operation:
        operation = self.store.get(operation_id)
        assert operation is not None
        return operation

    def wait_for_stage(self, operation_id: str, stage: str, timeout: float = 60) -> None:
        self.wait(lambda: self._get(operation_id).progress.stage == stage, timeout)

    def finished_count(self, outcome: str, timeout: float = 60) -> float:
        """How many operations the dispatcher counted as finished with `outcome`, once it counted any: it
        counts an operation just after writing its end, so a reader can see the end before the count."""
        name = "asyncstt_operation_duration_seconds_count"

        def counted() -> float | None:
            return self.metrics.registry.get_sample_value(name, {"outcome": outcome})

        self.wait(lambda: counted() is not None, timeout)
        value = counted()
        assert value is not None
        return value

    def sample(self, name: str) -> float:
        value = self.metrics.registry.get_sample_value(name)
        return 0.0 if value is None else value
