"""Stretches of speech from known probabilities, held to faster-whisper's `get_speech_timestamps` on the same
probabilities (its model call replaced by them)."""

from __future__ import annotations

import numpy as np
import pytest
from faster_whisper import vad
from faster_whisper.vad import VadOptions

from asyncstt.engines.faster_whisper import BATCHED_VAD
from asyncstt.engines.speech_timestamps import FRAME_SAMPLES, speech_timestamps

OPTIONS = [
    BATCHED_VAD,
    VadOptions(),
    # Stretches cut at their maximum length, with and without a pause to cut in.
    VadOptions(max_speech_duration_s=3.0, min_silence_duration_ms=500),
    VadOptions(min_speech_duration_ms=250, min_silence_duration_ms=100, speech_pad_ms=30),
    VadOptions(threshold=0.6, neg_threshold=0.2, max_speech_duration_s=1.5),
]


def faster_whispers(
    probabilities: np.ndarray, samples: int, options: VadOptions, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[int, int]]:
    """faster-whisper's own answer for audio of `samples` samples whose frames have `probabilities`."""

    class Model:
        def __call__(self, audio: np.ndarray) -> np.ndarray:
            assert len(audio) // FRAME_SAMPLES == len(probabilities)
            return probabilities.reshape(-1, 1)

    monkeypatch.setattr(vad, "get_vad_model", Model)
    found = vad.get_speech_timestamps(np.zeros(samples, np.float32), options)
    return [(stretch["start"], stretch["end"]) for stretch in found]


@pytest.mark.parametrize("options", OPTIONS, ids=range(len(OPTIONS)))
@pytest.mark.parametrize("seed", range(12))
def test_the_same_probabilities_give_faster_whispers_stretches(
    options: VadOptions, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    # Runs of speech and pause of varied lengths, with values on and near both thresholds.
    runs = rng.integers(1, 120, size=60)
    levels = rng.choice([0.05, 0.2, 0.35, 0.4, 0.5, 0.55, 0.9], size=60)
    probabilities = np.repeat(levels, runs).astype(np.float32)
    probabilities += rng.normal(0, 0.02, size=len(probabilities)).astype(np.float32)
    samples = (len(probabilities) - 1) * FRAME_SAMPLES + int(rng.integers(0, FRAME_SAMPLES))
    expected = faster_whispers(probabilities, samples, options, monkeypatch)
    assert len(expected) > 1
    assert speech_timestamps(probabilities, samples, options) == expected


def test_probabilities_past_the_samples_are_not_read() -> None:
    speech = np.full(100, 0.9, np.float32)
    assert speech_timestamps(speech, 10 * FRAME_SAMPLES, VadOptions()) == [(0, 10 * FRAME_SAMPLES)]


def test_no_speech_gives_no_stretches() -> None:
    assert speech_timestamps(np.full(500, 0.1, np.float32), 500 * FRAME_SAMPLES, BATCHED_VAD) == []
