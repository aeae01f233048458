"""Partial results of a long operation read while it runs are a prefix of its final stream: a real store, real
decoding and planning, slices held back mid-run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from asyncstt.operation import Operation, OperationState
from asyncstt.recognition import Analytics, ClassifierTrigger
from asyncstt.wire.v3 import render_recognition
from tests.support.audio import write_wav
from tests.support.dispatching import Harness, stand_in

pytestmark = pytest.mark.integration

ANALYTICS = Analytics(
    speaker_analysis=True,
    conversation_analysis=True,
    profanity_triggers=(ClassifierTrigger.UTTERANCE,),
)


def noise(path: Path, seconds: int, channels: int) -> Path:
    """Faint noise: nothing for the planner to snap to, so cuts fall every 10 s."""
    rng = np.random.default_rng(11)
    tracks = [rng.normal(0, 0.01, seconds * 16000).astype(np.float32) for _ in range(channels)]
    return write_wav(path, tracks, 16000)


def stream(harness: Harness, operation: Operation) -> list[Any]:
    """What getRecognition?partial=true streams now, without the cursors (they say how much audio is in)."""
    current = harness.store.get(operation.id)
    assert current is not None
    messages = list(
        render_recognition(
            operation.id,
            harness.service.partial_recognition_of(current),
            lambda: 0,
            current.spec,
            partial=not current.done,
        )
    )
    for message in messages:
        message.ClearField("audio_cursors")
    return messages


@pytest.mark.parametrize(("channels", "held_from", "heard"), [(1, 3, 3), (2, 3, 2)])
def test_partial_results_read_mid_run_are_a_prefix_of_the_final_stream(
    harness_factory: Callable[..., Harness],
    tmp_path: Path,
    channels: int,
    held_from: int,
    heard: int,
) -> None:
    harness = harness_factory(stand_in(), slice_seconds=10.0, snap_window_seconds=1.0)
    harness.executor.hold_from = held_from
    operation = harness.submit(noise(tmp_path / "call.wav", 40, channels), analytics=ANALYTICS)
    assert stream(harness, operation) == []
    harness.dispatcher.start()
    harness.wait(lambda: len(harness.store.latest_saved_slices(operation.id)) == held_from)

    midway = stream(harness, operation)
    harness.executor.gate.set()
    done = harness.done(operation.id)
    final = stream(harness, operation)

    assert done.state is OperationState.SUCCEEDED, done.error
    assert final[: len(midway)] == midway
    # Each utterance brings five messages (final, refinement, end, classifier, analysis): in stereo the
    # second stretch, saved on one channel only, waits for the other.
    assert [m.final.alternatives[0].text for m in midway if m.HasField("final")] == [
        f"slice{index}" for index in range(heard)
    ]
    assert len(midway) == 5 * heard
    assert len(final) == 5 * 4 * channels + channels + 1
