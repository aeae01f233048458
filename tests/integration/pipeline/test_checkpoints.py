"""Durable, fair execution: saved slices are not recognised again, cancel stops within a slice, a submit wakes
the dispatcher at once, deferred slices age, metrics are reported. A real store, real decoding and planning;
slices run on in-process threads, recognised by a stand-in (fast) or by the real engine (one slow test)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from asyncstt.auth import Principal
from asyncstt.clock import utcnow
from asyncstt.dispatcher import AudioFetcher, Dispatcher
from asyncstt.engines.base import EngineCapabilities
from asyncstt.engines.registry import describe_engine
from asyncstt.executor.threads import ThreadExecutor
from asyncstt.metrics import Metrics
from asyncstt.operation import ApiVersion, Operation, OperationState
from asyncstt.pipeline.task import SliceJob, SliceResult
from asyncstt.recognition import AudioEncoding, RecognitionSpec
from asyncstt.service import OperationService
from asyncstt.settings import ExecutionSettings, FileSourceSettings, Settings
from asyncstt.sources.registry import SourceRegistry
from asyncstt.store.sql import SqlStore
from tests.factories import make_utterance
from tests.support.audio import read_wav_mono, write_wav
from tests.support.wer import JFK_REFERENCE, word_errors

pytestmark = pytest.mark.integration

CALLER = Principal("folder-a", "sa-a")
EN = EngineCapabilities(name="stand-in", languages=frozenset({"en-US"}), detects_language=False)
SliceFn = Callable[[SliceJob], SliceResult]


def stand_in(seconds: float = 0.0) -> SliceFn:
    """Recognises a slice as the one word `slice<index>`, after `seconds` of pretended work."""

    def recognise(job: SliceJob) -> SliceResult:
        time.sleep(seconds)
        end = job.info.duration_seconds if job.slice.end is None else job.slice.end
        word = f"slice{job.slice.index}"
        utterance = make_utterance(job.slice.channel, [(word, job.slice.start, end)], word)
        return SliceResult(job.slice, (utterance,), end - job.slice.start)

    return recognise


class RecordingExecutor:
    """A ThreadExecutor that records what is submitted and can stand in for recognition or hold slices back."""

    def __init__(self, recognise: SliceFn | None = None) -> None:
        self._inner = ThreadExecutor(workers=1)
        self._recognise = recognise
        self.submitted: list[tuple[str, int, int]] = []
        self.first_submit: float | None = None
        self.ran: list[int] = []
        #: Slices with an index at or over this wait for `gate` before they run.
        self.hold_from: int | None = None
        self.gate = threading.Event()

    def submit(self, fn: Callable[[Any], Any], arg: SliceJob, *, priority: int, key: str) -> Any:
        if self.first_submit is None:
            self.first_submit = time.monotonic()
        self.submitted.append((arg.operation_id, arg.slice.index, priority))
        work = self._recognise or fn

        def run(job: SliceJob) -> SliceResult:
            if self.hold_from is not None and job.slice.index >= self.hold_from:
                self.gate.wait(30)
            self.ran.append(job.slice.index)
            return work(job)

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
    ) -> None:
        self.settings = settings
        self.store = store
        self.executor = executor
        self.metrics = Metrics()
        sources = SourceRegistry(settings)
        fetcher = AudioFetcher(store, sources.fetch, settings.limits.max_file_bytes)
        self.dispatcher = Dispatcher(store, executor, fetcher, settings, metrics=self.metrics)
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

    def sample(self, name: str) -> float:
        value = self.metrics.registry.get_sample_value(name)
        return 0.0 if value is None else value


@pytest.fixture
def harness_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., Harness]]:
    """Harnesses on SQLite; a test marked `on_postgresql` gets PostgreSQL instead."""
    on_postgresql = request.node.get_closest_marker("on_postgresql") is not None
    store_url: str = request.getfixturevalue("postgres_url" if on_postgresql else "sqlite_url")
    made: list[Harness] = []

    def make(
        recognise: SliceFn | None = None,
        capabilities: EngineCapabilities = EN,
        submit_clock: Callable[[], datetime] = utcnow,
        **execution: Any,
    ) -> Harness:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=store_url,
            file_sources=FileSourceSettings(root=tmp_path.parent.parent),
            execution=ExecutionSettings(**{"poll_interval_seconds": 0.05, **execution}),
        )
        harness = Harness(
            settings, SqlStore(store_url), RecordingExecutor(recognise), capabilities, submit_clock
        )
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.dispatcher.stop()
        harness.executor.close()
        harness.store.close()


@pytest.fixture
def murmur(tmp_path: Path) -> Path:
    """60 s of faint noise: six 10-second slices, nothing for the planner to snap to."""
    noise = np.random.default_rng(7).normal(0, 0.01, 60 * 16000).astype(np.float32)
    path = tmp_path / "murmur.wav"
    write_wav(path, [noise], 16000)
    return path


def slices_of(harness: Harness, operation_id: str) -> list[int]:
    return [index for op, index, _ in harness.executor.submitted if op == operation_id]


def words_of(operation: Operation) -> list[str]:
    assert operation.result is not None
    return [w.text for u in operation.result.utterances for w in u.words]


def test_a_reclaimed_operation_recognises_only_the_slices_not_saved(
    harness_factory: Callable[..., Harness], murmur: Path
) -> None:
    first = harness_factory(stand_in(), slice_seconds=10.0, snap_window_seconds=1.0)
    first.executor.hold_from = 4
    operation = first.submit(murmur)
    first.dispatcher.start()
    first.wait(lambda: first.executor.ran == [0, 1, 2, 3])
    first.wait(lambda: first._get(operation.id).progress.processed_seconds >= 40)
    first.dispatcher.stop()
    handed_back = first._get(operation.id)
    assert (handed_back.state, handed_back.lease_owner) == (OperationState.QUEUED, None)

    second = harness_factory(stand_in(), slice_seconds=10.0, snap_window_seconds=1.0)
    second.dispatcher.start()
    done = second.done(operation.id)
    assert done.state is OperationState.SUCCEEDED, done.error
    assert slices_of(second, operation.id) == [4, 5]
    assert words_of(done) == [f"slice{index}" for index in range(6)]
    assert done.attempts == 2
    assert second.sample("asyncstt_slice_duration_seconds_count") == 2
    assert done.result is not None
    fifth_slice_start = done.result.utterances[4].start
    assert second.sample("asyncstt_audio_processed_seconds_total") == pytest.approx(
        60.0 - fifth_slice_start
    )


def test_a_stale_plan_is_not_reused(harness_factory: Callable[..., Harness], murmur: Path) -> None:
    first = harness_factory(stand_in(), slice_seconds=10.0, snap_window_seconds=1.0)
    first.executor.hold_from = 2
    operation = first.submit(murmur)
    first.dispatcher.start()
    first.wait(lambda: first._get(operation.id).progress.processed_seconds >= 20)
    first.dispatcher.stop()
    # Another slice length: other cut points, so nothing saved before fits.
    second = harness_factory(stand_in(), slice_seconds=20.0, snap_window_seconds=1.0)
    second.dispatcher.start()
    done = second.done(operation.id)
    assert done.state is OperationState.SUCCEEDED
    assert slices_of(second, operation.id) == [0, 1, 2]


@pytest.mark.on_postgresql
def test_cancel_stops_the_remaining_slices_within_one_slice(
    harness_factory: Callable[..., Harness], murmur: Path
) -> None:
    slice_work = 1.0
    harness = harness_factory(stand_in(slice_work), slice_seconds=5.0, snap_window_seconds=1.0)
    operation = harness.submit(murmur)
    harness.dispatcher.start()
    harness.wait(lambda: len(harness.executor.ran) >= 1)
    asked = time.monotonic()
    harness.service.cancel(CALLER, operation.id)
    done = harness.done(operation.id, timeout=10)
    took = time.monotonic() - asked
    assert done.error is not None
    assert (done.state, done.error.message) == (OperationState.FAILED, "cancelled")
    # The cancel is seen within CANCEL_CHECK_SECONDS; the slice running then may finish, no other starts.
    assert took < slice_work + 1.0, took
    time.sleep(slice_work)
    assert len(harness.executor.ran) <= 3, harness.executor.ran
    assert len(harness.executor.submitted) >= 10
    assert (
        harness.metrics.registry.get_sample_value(
            "asyncstt_operation_duration_seconds_count", {"outcome": "cancelled"}
        )
        == 1
    )


def test_a_submit_wakes_an_idle_dispatcher_at_once(
    harness_factory: Callable[..., Harness], murmur: Path, tmp_path: Path
) -> None:
    # Polling alone would take up to 5 s: only the wake-up can be this fast.
    harness = harness_factory(stand_in(), poll_interval_seconds=5.0)
    short = tmp_path / "short.wav"
    write_wav(short, [read_wav_mono(murmur)[: 11 * 16000]], 16000)
    harness.dispatcher.start()
    time.sleep(0.3)  # the first poll (and sweep) has passed: the dispatcher is idle, waiting
    latencies = []
    for _ in range(3):
        harness.executor.forget_first_submit()
        submitted = time.monotonic()
        operation = harness.submit(short)
        harness.wait(lambda: harness.executor.first_submit is not None, timeout=10)
        assert harness.executor.first_submit is not None
        latencies.append(harness.executor.first_submit - submitted)
        harness.done(operation.id)
        time.sleep(0.2)
    print(f"submit -> first slice submitted: {[round(s * 1000) for s in latencies]} ms")
    # The target is 100 ms on an idle machine; this one is shared and noisy.
    assert min(latencies) < 0.3, latencies


def test_deferred_slices_rise_with_the_age_of_their_operation(
    harness_factory: Callable[..., Harness], murmur: Path
) -> None:
    half_a_day_ago = harness_factory(
        stand_in(), submit_clock=lambda: utcnow() - timedelta(hours=12), slice_seconds=30.0
    )
    old = half_a_day_ago.submit(murmur, model="deferred-general")
    fresh = half_a_day_ago.submit(murmur, model="deferred-general")
    standard = half_a_day_ago.submit(murmur)
    half_a_day_ago.dispatcher.start()
    for operation in (old, fresh, standard):
        half_a_day_ago.done(operation.id)
    priorities = {
        op: {p for o, _, p in half_a_day_ago.executor.submitted if o == op}
        for op in (old.id, fresh.id, standard.id)
    }
    assert priorities[standard.id] == {100}
    assert priorities[old.id] == priorities[fresh.id] == {50}


def test_taking_over_an_expired_lease_is_counted(
    harness_factory: Callable[..., Harness], murmur: Path
) -> None:
    harness = harness_factory(stand_in(), lease_seconds=0.5, slice_seconds=30.0)
    operation = harness.submit(murmur)
    assert harness.store.claim("a-dispatcher-that-died", 0.5, utcnow()) is not None
    harness.dispatcher.start()
    done = harness.done(operation.id)
    assert (done.state, done.attempts) == (OperationState.SUCCEEDED, 2)
    assert harness.sample("asyncstt_lease_expiries_total") == 1
    succeeded = harness.metrics.registry.get_sample_value(
        "asyncstt_operation_duration_seconds_count", {"outcome": "succeeded"}
    )
    assert succeeded == 1


def test_a_failed_operation_counts_its_error(
    harness_factory: Callable[..., Harness], tmp_path: Path
) -> None:
    harness = harness_factory(stand_in())
    not_audio = tmp_path / "notes.wav"
    not_audio.write_bytes(b"these are not the samples you are looking for" * 100)
    operation = harness.submit(not_audio)
    harness.dispatcher.start()
    done = harness.done(operation.id)
    assert done.error is not None
    assert (
        harness.metrics.registry.get_sample_value(
            "asyncstt_errors_total", {"code": str(done.error.code), "where": "operation"}
        )
        == 1
    )


@pytest.mark.slow
def test_with_the_real_engine_a_reclaimed_operation_skips_saved_slices(
    harness_factory: Callable[..., Harness], shared_data: Path, tmp_path: Path
) -> None:
    jfk = read_wav_mono(shared_data / "jfk.wav")
    pause = np.zeros(16000, dtype=np.float32)
    three = tmp_path / "three.wav"
    write_wav(three, [np.concatenate([jfk, pause, jfk, pause, jfk])], 16000)
    capabilities = describe_engine(Settings().engine)
    options: dict[str, Any] = {"slice_seconds": 12.0, "snap_window_seconds": 1.5}

    undisturbed = harness_factory(capabilities=capabilities, **options)
    reference = undisturbed.submit(three)
    undisturbed.dispatcher.start()
    expected = undisturbed.done(reference.id, timeout=120)
    assert expected.state is OperationState.SUCCEEDED, expected.error
    assert slices_of(undisturbed, reference.id) == [0, 1, 2]
    undisturbed.dispatcher.stop()

    first = harness_factory(capabilities=capabilities, **options)
    first.executor.hold_from = 2
    operation = first.submit(three)
    first.dispatcher.start()
    first.wait(lambda: first.executor.ran == [0, 1], timeout=120)
    # Progress counts a slice once it is saved.
    first.wait(lambda: first._get(operation.id).progress.processed_seconds >= 20)
    first.dispatcher.stop()

    second = harness_factory(capabilities=capabilities, **options)
    second.dispatcher.start()
    done = second.done(operation.id, timeout=120)
    assert done.state is OperationState.SUCCEEDED, done.error
    assert slices_of(second, operation.id) == [2]
    assert second.executor.ran == [2]
    assert words_of(done) == words_of(expected)
    text = " ".join(u.text for u in done.result.utterances) if done.result else ""
    assert word_errors(text, " ".join([JFK_REFERENCE] * 3)) <= 3, text
