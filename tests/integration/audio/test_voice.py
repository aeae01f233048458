"""Voice activity over the real Silero model: digital silence is skipped after half a second of it, the speech
after it is judged as at the start of a file, and the probabilities do not depend on the pieces fed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from asyncstt.audio import voice
from asyncstt.audio.voice import FRAME_SAMPLES, HEARD_SILENT_FRAMES, VoiceActivity
from asyncstt.pipeline.slicer import NEG_THRESHOLD
from tests.support.audio import Samples, read_wav_mono

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def jfk(reference_audio: Path) -> Samples:
    samples = read_wav_mono(reference_audio / "jfk.wav")
    return samples[: len(samples) // FRAME_SAMPLES * FRAME_SAMPLES]


def silence(frames: int) -> Samples:
    return np.zeros(frames * FRAME_SAMPLES, dtype=np.float32)


class CountingSession:
    """The model's own session, counting the frames it is asked to judge."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self.frames = 0

    def run(self, names: Any, feeds: dict[str, Any]) -> Any:
        self.frames += len(feeds["input"])
        return self._session.run(names, feeds)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> CountingSession:
    session = CountingSession(voice._session())
    monkeypatch.setattr(voice, "_session", lambda: session)
    return session


def test_speech_after_digital_silence_is_judged_as_at_the_start_of_a_file(jfk: Samples) -> None:
    alone = VoiceActivity().feed(np.concatenate([silence(200), jfk]))
    after = VoiceActivity().feed(np.concatenate([jfk, silence(200), jfk]))
    heard = len(jfk) // FRAME_SAMPLES
    np.testing.assert_array_equal(after[-heard:], alone[-heard:])
    assert (alone[-heard:] >= 0.5).sum() > heard / 2


def test_digital_silence_costs_the_model_half_a_second_of_it(
    jfk: Samples, counted: CountingSession
) -> None:
    # Faint noise over the recording, so that none of it is digital silence (its first and last frames are).
    hiss = np.random.default_rng(5).normal(0, 0.001, len(jfk)).astype(np.float32)
    voiced = jfk + hiss
    probabilities = VoiceActivity().feed(np.concatenate([voiced, silence(1000), voiced]))
    speech_frames = 2 * len(jfk) // FRAME_SAMPLES
    # The frame after speech sees the end of it as context, so it is not yet silence.
    assert counted.frames == speech_frames + 1 + HEARD_SILENT_FRAMES
    gap = probabilities[len(jfk) // FRAME_SAMPLES : -len(jfk) // FRAME_SAMPLES]
    assert gap.max() < NEG_THRESHOLD


def test_quiet_noise_is_not_silence(counted: CountingSession) -> None:
    noise = np.random.default_rng(3).normal(0, 0.001, 500 * FRAME_SAMPLES).astype(np.float32)
    VoiceActivity().feed(noise)
    assert counted.frames == 500


@pytest.mark.parametrize("piece", [FRAME_SAMPLES * 3, 7_777, 160_000])
def test_the_probabilities_do_not_depend_on_the_pieces_fed(jfk: Samples, piece: int) -> None:
    audio = np.concatenate(
        [silence(7), jfk, silence(HEARD_SILENT_FRAMES + 3), jfk, silence(90), jfk]
    )
    whole = VoiceActivity().feed(audio)
    activity = VoiceActivity()
    parts = [activity.feed(audio[i : i + piece]) for i in range(0, len(audio), piece)]
    np.testing.assert_array_equal(np.concatenate([*parts, activity.finish()]), whole)
