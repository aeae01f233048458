"""Same input, same words: what a worker's engine keeps from one recognition to the next never changes a result.

The samples are Russian speech under noise given to the English-only model, the kind of hard audio on which
Whisper used to fall back to sampling, whose random draws went on from one operation to the next.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asyncstt.engines.base import Engine, EngineSegment
from asyncstt.engines.catalog import load_engine
from asyncstt.engines.faster_whisper import FasterWhisperEngine
from asyncstt.settings import EngineSettings
from tests.support.audio import read_wav_mono
from tests.support.wer import LIBRIVOX

pytestmark = pytest.mark.integration

SEQUENTIAL = EngineSettings(batch_size=0)
BATCHED = EngineSettings(batch_size=8)


@pytest.fixture(scope="module")
def noisy(reference_audio: Path) -> np.ndarray:
    speech = read_wav_mono(reference_audio / "ru-neural-networks.wav")
    noise = np.random.default_rng(7).normal(0.0, 0.02, speech.size)
    return (speech + noise).astype(np.float32)


@pytest.fixture(scope="module")
def other(reference_audio: Path) -> list[np.ndarray]:
    """Other recordings a worker recognises between two operations."""
    return [
        read_wav_mono(reference_audio / "jfk.wav"),
        read_wav_mono(sorted(LIBRIVOX.glob("*.wav"))[0]),
    ]


def heard(segments: list[EngineSegment]) -> list[tuple[str, float, float, float]]:
    return [(w.text, w.start, w.end, w.probability) for s in segments for w in s.words]


@pytest.mark.parametrize("settings", [SEQUENTIAL, BATCHED], ids=["sequential", "batched"])
def test_the_same_samples_after_other_audio_give_the_same_words(
    settings: EngineSettings, noisy: np.ndarray, other: list[np.ndarray]
) -> None:
    engine: Engine = load_engine(settings)
    first = heard(engine.recognise(noisy, "en-US"))
    assert first
    for samples in other:
        engine.recognise(samples, "en-US")
    assert heard(engine.recognise(noisy, "en-US")) == first
    assert heard(engine.recognise(noisy, "en-US")) == first


@pytest.mark.parametrize("settings", [SEQUENTIAL, BATCHED], ids=["sequential", "batched"])
def test_a_re_run_slice_on_another_worker_gives_the_words_of_the_first_run(
    settings: EngineSettings, noisy: np.ndarray, other: list[np.ndarray]
) -> None:
    """A lost worker's slice runs again on a fresh engine: its saved words stay valid."""
    worked = load_engine(settings)
    for samples in other:
        worked.recognise(samples, "en-US")
    saved = heard(worked.recognise(noisy, "en-US"))
    assert heard(FasterWhisperEngine(settings).recognise(noisy, "en-US")) == saved
