"""A dispatcher on the in-memory twins: the in-memory store, slices on a thread, and stand-ins for probing,
planning and recognition, so that the orchestration runs without audio or an engine."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from asyncstt.audio.format import AudioFormat
from asyncstt.audio.probe import AudioInfo
from asyncstt.dispatch.dispatcher import Dispatcher
from asyncstt.dispatch.slice_pipeline import SlicePipeline
from asyncstt.observability.metrics import Metrics
from asyncstt.operation import INLINE_SOURCE, Operation, Progress
from asyncstt.pipeline.plan import PlanItem, Planning, plan_id, plan_slices
from asyncstt.pipeline.task import SliceJob, SliceResult
from asyncstt.recognition import AudioEncoding
from asyncstt.settings import ExecutionSettings, LimitSettings, Settings
from asyncstt.sources.fetcher import AudioFetcher
from asyncstt.store.memory import InMemoryStore
from tests.factories import T0, ManualClock, make_operation
from tests.support.dispatching import RecordingExecutor, stand_in

#: What every operation here sends as its audio: the stand-in probe reads no further than its length.
AUDIO = b"thirty seconds of one channel"
#: What the stand-in probe says of it: three 10-second slices at the kit's slice length.
INFO = AudioInfo(AudioFormat.WAV, channels=1, sample_rate=16000, duration_seconds=30.0)
#: The cut points the stand-in planner finds in it.
CUTS = [10.0, 20.0]


class Ticks:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ProgressRecordingStore(InMemoryStore):
    """The in-memory store, keeping every progress write it accepts."""

    def __init__(self) -> None:
        super().__init__()
        self.progress: list[Progress] = []

    def set_progress(
        self, operation_id: str, owner: str, progress: Progress, now: datetime
    ) -> bool:
        written = super().set_progress(operation_id, owner, progress, now)
        if written:
            self.progress.append(progress)
        return written


class Kit:
    """A dispatcher and everything around it; `on_slice` makes a slice do something before it is recognised."""

    def __init__(
        self, tmp_path: Path, store: ProgressRecordingStore | None = None, **execution: Any
    ) -> None:
        self.store = store or ProgressRecordingStore()
        self.executor = RecordingExecutor()
        self.clock = ManualClock(T0)
        self.ticks = Ticks()
        self.metrics = Metrics()
        self.settings = Settings(
            data_dir=tmp_path / "data",
            execution=ExecutionSettings(
                **{"slice_seconds": 10.0, "poll_interval_seconds": 0.01, **execution}
            ),
        )
        #: What the stand-in probe found in the file it was given.
        self.probed: list[bytes] = []
        self.actions: dict[int, Callable[[], None]] = {}
        #: What the stand-in planner finds: CUTS' slices unless a test plans otherwise.
        self.planner: Callable[[], Iterable[PlanItem]] = lambda: plan_slices(INFO, CUTS)
        self._recognise = stand_in()
        pipeline = SlicePipeline(self._probe, self._plan, self._recognise_slice)
        fetcher = AudioFetcher(self.store.inline_audio, _no_links, max_bytes=1 << 20)
        self.dispatcher = Dispatcher(
            self.store,
            self.executor,
            fetcher,
            self.settings,
            self.clock,
            metrics=self.metrics,
            pipeline=pipeline,
            monotonic=self.ticks,
        )

    def on_slice(self, index: int, action: Callable[[], None]) -> None:
        self.actions[index] = action

    def queue(self, operation_id: str = "op1", audio: bytes | None = AUDIO) -> Operation:
        """A queued operation whose audio came inline; None: its audio is missing from the store."""
        operation = make_operation(operation_id, source_uri=INLINE_SOURCE)
        return self.store.create(operation, inline_audio=audio)

    def claim(self) -> Operation:
        """Claim the next operation for the dispatcher, as its claim loop would."""
        claim = self.store.claim(self.dispatcher.owner, 30, self.clock())
        assert claim is not None
        return claim.operation

    def plan(self, operation: Operation) -> str:
        """The plan id a run of `operation` saves its slices under."""
        planning = Planning.of(self.settings)
        return plan_id(INFO, len(AUDIO), planning, operation.spec, self.settings.engine)

    def get(self, operation_id: str) -> Operation:
        operation = self.store.get(operation_id)
        assert operation is not None
        return operation

    def done(self, operation_id: str) -> Operation:
        wait_until(lambda: self.get(operation_id).done)
        return self.get(operation_id)

    def words(self, operation_id: str) -> list[str]:
        result = self.get(operation_id).result
        assert result is not None
        return [word.text for utterance in result.utterances for word in utterance.words]

    def sample(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value

    def close(self) -> None:
        self.executor.gate.set()
        self.dispatcher.stop()
        self.executor.close()

    def _probe(
        self,
        path: Path,
        declared: AudioEncoding,
        lpcm_sample_rate: int,
        lpcm_channels: int,
        limits: LimitSettings,
    ) -> AudioInfo:
        self.probed.append(path.read_bytes())
        return INFO

    def _plan(self, path: Path, info: AudioInfo, planning: Planning) -> Iterable[PlanItem]:
        assert (info, planning.slice_seconds) == (INFO, 10.0)
        return self.planner()

    def _recognise_slice(self, job: SliceJob) -> SliceResult:
        action = self.actions.get(job.slice.index)
        if action is not None:
            action()
        return self._recognise(job)


def _no_links(uri: str, destination: Path, max_bytes: int, folder_id: str) -> int:
    raise AssertionError(f"only inline audio here, not {uri}")


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Return once `condition` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError("timed out")


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    made = Kit(tmp_path)
    yield made
    made.close()
