"""The dispatcher with a real store, real decoding and the real engine, slices on in-process threads."""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from asyncstt.clock import utcnow
from asyncstt.dispatch.sweeper import Sweeper
from asyncstt.operation import OperationState
from tests.support.audio import read_wav_mono, write_wav
from tests.support.dispatching import CALLER, Harness
from tests.support.wer import JFK_REFERENCE, word_errors

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def jfk_repeated(reference_audio: Path, directory: Path, times: int) -> Path:
    """jfk.wav said `times` times in a row, in the directory that file:// links may read."""
    path = directory / f"jfk-x{times}.wav"
    write_wav(path, [np.tile(read_wav_mono(reference_audio / "jfk.wav"), times)], 16000)
    return path


@pytest.fixture
def jfk(reference_audio: Path, tmp_path: Path) -> Path:
    """jfk.wav inside the directory that file:// links may read."""
    copy = tmp_path / "jfk.wav"
    shutil.copyfile(reference_audio / "jfk.wav", copy)
    return copy


@pytest.mark.on_postgresql
def test_a_file_cut_into_slices_comes_back_whole_and_in_order(
    harness_factory: Callable[..., Harness], reference_audio: Path, tmp_path: Path
) -> None:
    jfk = read_wav_mono(reference_audio / "jfk.wav")
    pause = np.zeros(16000, dtype=np.float32)
    write_wav(tmp_path / "three.wav", [np.concatenate([jfk, pause, jfk, pause, jfk])], 16000)
    harness = harness_factory(slice_seconds=12.0, snap_window_seconds=1.5)
    operation = harness.submit(tmp_path / "three.wav")
    harness.dispatcher.start()
    done = harness.done(operation.id, timeout=120)
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
    harness_factory: Callable[..., Harness], reference_audio: Path, tmp_path: Path, jfk: Path
) -> None:
    speech = read_wav_mono(jfk)
    pause = np.zeros(8000, dtype=np.float32)
    write_wav(tmp_path / "long.wav", [np.concatenate([speech, pause] * 4)], 16000)
    harness = harness_factory(slice_seconds=11.5, snap_window_seconds=1.0)
    deferred = [harness.submit(tmp_path / "long.wav", model="deferred-general")]
    harness.dispatcher.start()
    time.sleep(1.0)
    standard = harness.submit(jfk, model="general")
    finished_standard = harness.done(standard.id, timeout=120)
    still_running = [harness.store.get(op.id) for op in deferred]
    assert finished_standard.state is OperationState.SUCCEEDED
    assert any(op is not None and not op.done for op in still_running)
    for op in deferred:
        assert harness.done(op.id, timeout=120).state is OperationState.SUCCEEDED


def test_cancelling_a_running_operation_stops_it_at_a_slice_boundary(
    harness_factory: Callable[..., Harness], reference_audio: Path, tmp_path: Path
) -> None:
    long_file = jfk_repeated(reference_audio, tmp_path, 6)
    harness = harness_factory(slice_seconds=11.0, snap_window_seconds=1.0)
    operation = harness.submit(long_file)
    harness.dispatcher.start()
    harness.wait_for_stage(operation.id, "recognising")
    harness.service.cancel(CALLER, harness.service.get(CALLER, operation.id))
    done = harness.done(operation.id, timeout=30)
    assert done.state is OperationState.FAILED
    assert done.error is not None
    assert (done.error.code, done.error.message) == (1, "cancelled")


def test_undecodable_audio_fails_the_operation_with_a_reason(
    harness_factory: Callable[..., Harness], audio_fixtures: Any
) -> None:
    harness = harness_factory()
    operation = harness.submit(Path(audio_fixtures.not_audio))
    harness.dispatcher.start()
    done = harness.done(operation.id, timeout=120)
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
    done = harness.done(operation.id, timeout=120)
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
    assert Sweeper(harness.store, harness.settings).sweep() == []
    retention = timedelta(seconds=harness.settings.limits.retention_seconds + 1)
    later = Sweeper(harness.store, harness.settings, clock=lambda: utcnow() + retention)
    assert later.sweep() == [operation.id]
    assert harness.store.get(operation.id) is None


def test_a_stopping_dispatcher_hands_its_operation_back_for_the_next_one(
    harness_factory: Callable[..., Harness], reference_audio: Path, tmp_path: Path
) -> None:
    long_file = jfk_repeated(reference_audio, tmp_path, 4)
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
    done = second.done(operation.id, timeout=120)
    assert done.state is OperationState.SUCCEEDED
    assert done.attempts == 2
