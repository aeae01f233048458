"""Planning from speech on real recordings, with the real VAD: each channel cut in its own pauses, silence left
out, a silent channel without slices, the first slices handed on before the file is read to its end; and, with
the real engine, a call with one silent channel recognised on its speaking channel only."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from asyncstt.audio.decode import decode_channel
from asyncstt.audio.probe import AudioInfo, probe
from asyncstt.audio.voice import FRAME_SECONDS, VoiceActivity
from asyncstt.audio.windows import Window, windows
from asyncstt.operation import OperationState
from asyncstt.pipeline import slicer
from asyncstt.pipeline.plan import PlanItem, Planning, Silence, SliceSpec
from asyncstt.recognition import AudioEncoding
from asyncstt.settings import LimitSettings
from tests.support.calls import RATE, Call, call, one_sided
from tests.support.dispatching import Harness
from tests.support.wer import word_errors

pytestmark = pytest.mark.integration

#: Short slices, so that a call of a minute is cut several times per channel.
PLANNING = Planning(slice_seconds=12.0, snap_window_seconds=3.0, speech_only=True)


def planned(path: Path, planning: Planning = PLANNING) -> tuple[AudioInfo, list[PlanItem]]:
    info = probe(path, AudioEncoding.WAV, 16000, 1, LimitSettings())
    return info, list(slicer.speech_slices(path, info, planning))


def loudness(samples: np.ndarray, seconds: float) -> float:
    """RMS of the 100 ms around a moment."""
    middle = round(seconds * RATE)
    around = samples[max(0, middle - RATE // 20) : middle + RATE // 20]
    return float(np.sqrt(np.mean(np.square(around)))) if len(around) else 0.0


def reading_watched(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Where each window the planner reads ends (seconds), as it reads it."""
    read: list[float] = []

    def watched(
        path: Path, info: AudioInfo, seconds: float, first_seconds: float | None
    ) -> Iterator[Window]:
        for window in windows(path, info, seconds, first_seconds):
            read.append(window.start + len(window.channels[0]) / RATE)
            yield window

    monkeypatch.setattr(slicer, "windows", watched)
    return read


@pytest.fixture
def two_rounds(reference_audio: Path, tmp_path: Path) -> tuple[Call, Path]:
    made = call(reference_audio, rounds=2)
    return made, made.write(tmp_path / "call.wav")


def test_each_channel_is_cut_in_its_own_pauses(two_rounds: tuple[Call, Path]) -> None:
    made, path = two_rounds
    _, items = planned(path)
    slices = [item for item in items if isinstance(item, SliceSpec)]
    assert [s.index for s in slices] == list(range(len(slices)))
    cuts = [(s.channel, s.end) for s in slices if s.end is not None]
    assert {channel for channel, _ in cuts} == {0, 1}
    for channel, cut in cuts:
        assert loudness(made.channels[channel], cut) < 0.02, (channel, cut)
    # Cuts of one channel fall while the other party talks: a point shared by both channels could not.
    assert any(made.speaking(1 - channel, cut) for channel, cut in cuts)
    # Each channel's slices and silence cover it once, end to end.
    for channel in (0, 1):
        stretches = sorted(
            (item.start, item.end if item.end is not None else made.seconds)
            for item in items
            if item.channel == channel
        )
        assert stretches[0][0] == 0.0
        assert stretches[-1][1] == pytest.approx(made.seconds)
        assert all(a[1] == pytest.approx(b[0]) for a, b in itertools.pairwise(stretches))


def test_a_silent_channel_gives_no_slices(reference_audio: Path, tmp_path: Path) -> None:
    made = one_sided(reference_audio, rounds=2)
    _, items = planned(made.write(tmp_path / "one-sided.wav"))
    assert {item.channel for item in items if isinstance(item, SliceSpec)} == {0}
    silence = sum(item.seconds for item in items if isinstance(item, Silence) and item.channel == 1)
    assert silence == pytest.approx(made.seconds)


def test_the_plan_does_not_depend_on_how_the_file_is_read(
    two_rounds: tuple[Call, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, path = two_rounds
    _, in_30s = planned(path)
    monkeypatch.setattr(slicer, "WINDOW_SECONDS", 7.0)
    monkeypatch.setattr(slicer, "FIRST_WINDOW_SECONDS", 11.0)
    _, in_7s = planned(path)

    def slices(items: list[PlanItem]) -> list[PlanItem]:
        return [item for item in items if isinstance(item, SliceSpec)]

    assert slices(in_7s) == slices(in_30s)


def test_the_first_slices_come_before_the_file_is_read_to_its_end(
    reference_audio: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = call(reference_audio, rounds=10)  # five minutes
    path = made.write(tmp_path / "long-call.wav")
    info = probe(path, AudioEncoding.WAV, 16000, 1, LimitSettings())
    read = reading_watched(monkeypatch)
    plan = slicer.speech_slices(path, info, PLANNING)
    first = next(item for item in plan if isinstance(item, SliceSpec))
    assert first.index == 0
    # A short window, then two: enough for the first channel to hold a slice's worth of speech.
    assert read[-1] <= slicer.FIRST_WINDOW_SECONDS + 2 * slicer.WINDOW_SECONDS < made.seconds / 4
    assert sum(isinstance(item, SliceSpec) for item in plan) >= 10


def test_a_slice_carries_the_voice_activity_of_its_own_frames(
    reference_audio: Path, tmp_path: Path
) -> None:
    made = one_sided(reference_audio)
    path = made.write(tmp_path / "one-sided.wav")
    info, items = planned(path, replace(PLANNING, slice_seconds=120.0))
    slices = [item for item in items if isinstance(item, SliceSpec)]
    assert slices == [SliceSpec(0, 0, 0.0, None)]
    voice = VoiceActivity()
    samples = decode_channel(path, info, 0, 0.0, None)
    heard = np.concatenate([voice.feed(samples), voice.finish()])
    assert slices[0].voice is not None
    np.testing.assert_array_equal(slices[0].voice, heard)
    silence = sum(item.seconds for item in items if isinstance(item, Silence))
    assert silence == pytest.approx(made.seconds)


def test_the_slices_of_a_call_carry_the_frames_they_span(two_rounds: tuple[Call, Path]) -> None:
    _, path = two_rounds
    info, items = planned(path)
    slices = [item for item in items if isinstance(item, SliceSpec)]
    assert {s.channel for s in slices} == {0, 1}
    for item in slices:
        assert item.voice is not None
        end = info.duration_seconds if item.end is None else item.end
        assert len(item.voice) == pytest.approx((end - item.start) / FRAME_SECONDS, abs=1)


@pytest.mark.slow
def test_a_call_with_one_silent_channel_is_recognised_on_the_speaking_channel_only(
    harness_factory: Callable[..., Harness], reference_audio: Path, tmp_path: Path
) -> None:
    made = one_sided(reference_audio)
    harness = harness_factory(slice_seconds=12.0, snap_window_seconds=3.0)
    operation = harness.submit(made.write(tmp_path / "one-sided.wav"))
    harness.dispatcher.start()
    done = harness.done(operation.id, timeout=120)
    assert done.state is OperationState.SUCCEEDED, done.error
    assert done.result is not None
    # Only the speaking channel went to the workers.
    assert {job.slice.channel for job in harness.executor.jobs} == {0}
    assert {u.channel for u in done.result.utterances} == {0}
    text = " ".join(u.text for u in done.result.utterances)
    assert word_errors(text, made.references[0]) <= 2, text
    assert done.result.channels == 2
    assert done.result.duration_seconds == pytest.approx(made.seconds)
    assert done.progress.processed_seconds == pytest.approx(done.progress.total_seconds)
