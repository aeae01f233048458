"""The dispatcher with a real store, real decoding and the real engine, slices on in-process threads."""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from asyncstt.auth import Principal
from asyncstt.clock import utcnow
from asyncstt.dispatcher import AudioFetcher, Dispatcher
from asyncstt.engines.registry import describe_engine
from asyncstt.executor.threads import ThreadExecutor
from asyncstt.operation import ApiVersion, Operation, OperationState
from asyncstt.recognition import AudioEncoding, RecognitionSpec
from asyncstt.service import OperationService
from asyncstt.settings import ExecutionSettings, FileSourceSettings, Settings
from asyncstt.sources.registry import SourceRegistry
from asyncstt.store.sql import SqlStore
from tests.support.audio import read_wav_mono, write_wav
from tests.support.wer import JFK_REFERENCE, word_errors

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CALLER = Principal("folder-a", "sa-a")


class Harness:
    def __init__(self, settings: Settings, store: SqlStore) -> None:
        self.settings = settings
        self.store = store
        sources = SourceRegistry(settings)
        self.service = OperationService(store, sources, describe_engine(settings.engine), settings)
        self.executor = ThreadExecutor(workers=1)
        fetcher = AudioFetcher(store, sources.fetch, settings.limits.max_file_bytes)
        self.dispatcher = Dispatcher(store, self.executor, fetcher, settings)

    def submit(self, path: Path, **spec: Any) -> Operation:
        full = RecognitionSpec(language="en-US", audio_encoding=AudioEncoding.WAV, **spec)
        return self.service.submit(
            CALLER, full, uri=path.resolve().as_uri(), content=None, api=ApiVersion.V2
        )

    def wait_for_stage(self, operation_id: str, stage: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            operation = self.store.get(operation_id)
            assert operation is not None
            if operation.progress.stage == stage:
                return
            time.sleep(0.02)
        raise AssertionError(f"{operation_id} never reached {stage}")

    def wait(self, operation_id: str, timeout: float = 120) -> Operation:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            operation = self.store.get(operation_id)
            assert operation is not None
            if operation.done:
                return operation
            time.sleep(0.05)
        raise AssertionError(f"{operation_id} not done")


def jfk_repeated(shared_data: Path, directory: Path, times: int) -> Path:
    """jfk.wav said `times` times in a row, in the directory that file:// links may read."""
    path = directory / f"jfk-x{times}.wav"
    write_wav(path, [np.tile(read_wav_mono(shared_data / "jfk.wav"), times)], 16000)
    return path


@pytest.fixture
def jfk(shared_data: Path, tmp_path: Path) -> Path:
    """jfk.wav inside the directory that file:// links may read."""
    copy = tmp_path / "jfk.wav"
    shutil.copyfile(shared_data / "jfk.wav", copy)
    return copy


@pytest.fixture
def harness_factory(
    request: pytest.FixtureRequest, tmp_path: Path, audio_fixtures: Any
) -> Iterator[Callable[..., Harness]]:
    """Harnesses on SQLite; a test marked `on_postgresql` gets PostgreSQL instead."""
    on_postgresql = request.node.get_closest_marker("on_postgresql") is not None
    store_url: str = request.getfixturevalue("postgres_url" if on_postgresql else "sqlite_url")
    made: list[Harness] = []

    def make(**execution: Any) -> Harness:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=store_url,
            file_sources=FileSourceSettings(root=tmp_path.parent.parent),
            execution=ExecutionSettings(poll_interval_seconds=0.05, **execution),
        )
        harness = Harness(settings, SqlStore(store_url))
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.dispatcher.stop()
        harness.executor.close()
        harness.store.close()


@pytest.mark.on_postgresql
def test_a_file_cut_into_slices_comes_back_whole_and_in_order(
    harness_factory: Callable[..., Harness], shared_data: Path, tmp_path: Path
) -> None:
    jfk = read_wav_mono(shared_data / "jfk.wav")
    pause = np.zeros(16000, dtype=np.float32)
    write_wav(tmp_path / "three.wav", [np.concatenate([jfk, pause, jfk, pause, jfk])], 16000)
    harness = harness_factory(slice_seconds=12.0, snap_window_seconds=1.5)
    operation = harness.submit(tmp_path / "three.wav")
    harness.dispatcher.start()
    done = harness.wait(operation.id)
    assert done.state is OperationState.SUCCEEDED, done.error
    assert done.result is not None
    text = " ".join(u.text for u in done.result.utterances)
    assert word_errors(text, " ".join([JFK_REFERENCE] * 3)) <= 3, text
    starts = [u.start for u in done.result.utterances]
    assert starts == sorted(starts)
    assert done.result.duration_seconds == pytest.approx(35.0, abs=0.05)
    assert done.progress.processed_seconds == pytest.approx(done.progress.total_seconds)
    assert not (harness.settings.cache_dir / operation.id).exists()
    words = [w for u in done.result.utterances for w in u.words]
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))
    assert words[-1].end <= 35.0


def test_standard_work_overtakes_deferred_work_submitted_before_it(
    harness_factory: Callable[..., Harness], shared_data: Path, tmp_path: Path, jfk: Path
) -> None:
    speech = read_wav_mono(jfk)
    pause = np.zeros(8000, dtype=np.float32)
    write_wav(tmp_path / "long.wav", [np.concatenate([speech, pause] * 4)], 16000)
    harness = harness_factory(slice_seconds=11.5, snap_window_seconds=1.0)
    deferred = [harness.submit(tmp_path / "long.wav", model="deferred-general")]
    harness.dispatcher.start()
    time.sleep(1.0)
    standard = harness.submit(jfk, model="general")
    finished_standard = harness.wait(standard.id)
    still_running = [harness.store.get(op.id) for op in deferred]
    assert finished_standard.state is OperationState.SUCCEEDED
    assert any(op is not None and not op.done for op in still_running)
    for op in deferred:
        assert harness.wait(op.id).state is OperationState.SUCCEEDED


def test_cancelling_a_running_operation_stops_it_at_a_slice_boundary(
    harness_factory: Callable[..., Harness], shared_data: Path, tmp_path: Path
) -> None:
    long_file = jfk_repeated(shared_data, tmp_path, 6)
    harness = harness_factory(slice_seconds=11.0, snap_window_seconds=1.0)
    operation = harness.submit(long_file)
    harness.dispatcher.start()
    harness.wait_for_stage(operation.id, "recognising")
    harness.service.cancel(CALLER, operation.id)
    done = harness.wait(operation.id, timeout=30)
    assert done.state is OperationState.FAILED
    assert done.error is not None
    assert (done.error.code, done.error.message) == (1, "cancelled")


def test_undecodable_audio_fails_the_operation_with_a_reason(
    harness_factory: Callable[..., Harness], audio_fixtures: Any
) -> None:
    harness = harness_factory()
    operation = harness.submit(Path(audio_fixtures.not_audio))
    harness.dispatcher.start()
    done = harness.wait(operation.id)
    assert done.state is OperationState.FAILED
    assert done.error is not None
    assert done.error.code == 3
    assert "audio" in done.error.message


@pytest.mark.on_postgresql
def test_an_abandoned_operation_is_claimed_again_and_finished(
    harness_factory: Callable[..., Harness], jfk: Path
) -> None:
    harness = harness_factory(lease_seconds=1.0)
    operation = harness.submit(jfk)
    stolen = harness.store.claim("a-dispatcher-that-died", 1.0, utcnow())
    assert stolen is not None
    assert stolen.operation.id == operation.id
    harness.dispatcher.start()
    done = harness.wait(operation.id)
    assert done.state is OperationState.SUCCEEDED
    assert done.attempts == 2


def test_the_sweep_purges_operations_past_their_retention(
    harness_factory: Callable[..., Harness], jfk: Path
) -> None:
    harness = harness_factory()
    operation = harness.submit(jfk)
    claimed = harness.store.claim(harness.dispatcher.owner, 30, utcnow())
    assert claimed is not None
    harness.dispatcher.process(claimed.operation)
    assert harness.store.get(operation.id) is not None
    assert harness.dispatcher.sweep() == []
    retention = timedelta(seconds=harness.settings.limits.retention_seconds + 1)
    later = Dispatcher(
        harness.store,
        harness.executor,
        AudioFetcher(harness.store, SourceRegistry(harness.settings).fetch, 1),
        harness.settings,
        clock=lambda: utcnow() + retention,
    )
    assert later.sweep() == [operation.id]
    assert harness.store.get(operation.id) is None


def test_a_stopping_dispatcher_hands_its_operation_back_for_the_next_one(
    harness_factory: Callable[..., Harness], shared_data: Path, tmp_path: Path
) -> None:
    long_file = jfk_repeated(shared_data, tmp_path, 4)
    first = harness_factory(slice_seconds=11.0, snap_window_seconds=1.0)
    operation = first.submit(long_file)
    first.dispatcher.start()
    first.wait_for_stage(operation.id, "recognising")
    first.dispatcher.stop()
    handed_back = first.store.get(operation.id)
    assert handed_back is not None
    assert handed_back.state is OperationState.QUEUED
    assert handed_back.lease_owner is None
    second = harness_factory(slice_seconds=11.0, snap_window_seconds=1.0)
    second.dispatcher.start()
    done = second.wait(operation.id)
    assert done.state is OperationState.SUCCEEDED
    assert done.attempts == 2
