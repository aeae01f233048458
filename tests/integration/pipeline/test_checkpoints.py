"""Durable, fair execution: saved slices are not recognised again, cancel stops within a slice, a submit wakes
the dispatcher at once, deferred slices age, metrics are reported. A real store, real decoding and planning;
slices run on in-process threads, recognised by a stand-in (fast) or by the real engine (one slow test)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from asyncstt.clock import utcnow
from asyncstt.operation import Operation, OperationState
from tests.support.audio import read_wav_mono, write_wav
from tests.support.dispatching import CALLER, Harness, stand_in
from tests.support.wer import JFK_REFERENCE, word_errors

pytestmark = pytest.mark.integration


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
    harness.service.cancel(CALLER, harness.service.get(CALLER, operation.id))
    done = harness.done(operation.id, timeout=10)
    took = time.monotonic() - asked
    assert done.error is not None
    assert (done.state, done.error.message) == (OperationState.FAILED, "cancelled")
    # The cancel is seen within CANCEL_CHECK_SECONDS; the slice running then may finish, no other starts.
    assert took < slice_work + 1.0, took
    time.sleep(slice_work)
    assert len(harness.executor.ran) <= 3, harness.executor.ran
    assert len(harness.executor.submitted) >= 10
    assert harness.finished_count("cancelled") == 1


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
    assert harness.finished_count("succeeded") == 1


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
    # The error is counted with the operation's end, just before its finished count.
    assert harness.finished_count("failed") == 1
    assert (
        harness.metrics.registry.get_sample_value(
            "asyncstt_errors_total", {"code": str(done.error.code), "where": "operation"}
        )
        == 1
    )


@pytest.mark.slow
def test_with_the_real_engine_a_reclaimed_operation_skips_saved_slices(
    harness_factory: Callable[..., Harness], reference_audio: Path, tmp_path: Path
) -> None:
    jfk = read_wav_mono(reference_audio / "jfk.wav")
    pause = np.zeros(16000, dtype=np.float32)
    three = tmp_path / "three.wav"
    write_wav(three, [np.concatenate([jfk, pause, jfk, pause, jfk])], 16000)
    # Slices [0, 11.4), [11.4, 23.4) and the rest, cut in the pauses: near the end (here, from the start) a
    # slice holds half a slice.
    options: dict[str, Any] = {"slice_seconds": 20.0, "snap_window_seconds": 3.0}

    undisturbed = harness_factory(**options)
    reference = undisturbed.submit(three)
    undisturbed.dispatcher.start()
    expected = undisturbed.done(reference.id, timeout=120)
    assert expected.state is OperationState.SUCCEEDED, expected.error
    assert slices_of(undisturbed, reference.id) == [0, 1, 2]
    undisturbed.dispatcher.stop()

    first = harness_factory(**options)
    first.executor.hold_from = 2
    operation = first.submit(three)
    first.dispatcher.start()
    first.wait(lambda: first.executor.ran == [0, 1], timeout=120)
    # Progress counts a slice once it is saved.
    first.wait(lambda: first._get(operation.id).progress.processed_seconds >= 20)
    first.dispatcher.stop()

    second = harness_factory(**options)
    second.dispatcher.start()
    done = second.done(operation.id, timeout=120)
    assert done.state is OperationState.SUCCEEDED, done.error
    assert slices_of(second, operation.id) == [2]
    assert second.executor.ran == [2]
    assert words_of(done) == words_of(expected)
    text = " ".join(u.text for u in done.result.utterances) if done.result else ""
    assert word_errors(text, " ".join([JFK_REFERENCE] * 3)) <= 3, text
