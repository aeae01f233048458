from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np
import pytest

from asyncstt.engines.base import SAMPLE_RATE, Engine, EngineSegment
from asyncstt.engines.catalog import load_engine
from asyncstt.engines.faster_whisper import FasterWhisperEngine
from asyncstt.engines.whisper_model import ModelUnavailable, default_model_dir
from asyncstt.recognition import RecognitionSpec
from asyncstt.settings import EngineSettings
from asyncstt.text.normalizer import build_utterance

pytestmark = pytest.mark.integration

JFK_REFERENCE = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        frames = wav.readframes(wav.getnframes())
    return (np.frombuffer(frames, "<i2") / 32768).astype(np.float32)


def spoken(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def word_errors(hypothesis: list[str], reference: list[str]) -> int:
    """Levenshtein distance in words: substitutions + insertions + deletions."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref != hyp))
    return row[-1]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return load_engine(EngineSettings())


@pytest.fixture(scope="module")
def jfk(reference_audio: Path) -> np.ndarray:
    return read_wav(reference_audio / "jfk.wav")


def all_words(segments: list[EngineSegment]) -> list[str]:
    return [w for s in segments for word in s.words for w in spoken(word.text)]


def test_jfk_is_recognised_with_ordered_word_times(engine: Engine, jfk: np.ndarray) -> None:
    segments = engine.recognise(jfk, "en-US")
    assert word_errors(all_words(segments), spoken(JFK_REFERENCE)) <= 1
    duration = len(jfk) / SAMPLE_RATE
    words = [word for segment in segments for word in segment.words]
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start <= w.end <= duration for w in words)
    assert all(0.0 <= w.probability <= 1.0 for w in words)
    assert all(s.language is None for s in segments)


def test_times_are_relative_to_the_samples_given(engine: Engine, jfk: np.ndarray) -> None:
    padded = np.concatenate([np.zeros(3 * SAMPLE_RATE, np.float32), jfk])
    plain = engine.recognise(jfk, "en-US")
    shifted = engine.recognise(padded, "en-US")
    assert all_words(shifted) == all_words(plain)
    first, first_shifted = plain[0].words[0], shifted[0].words[0]
    assert first_shifted.start == pytest.approx(first.start + 3.0, abs=0.5)


def test_english_only_model_recognises_without_a_language(engine: Engine, jfk: np.ndarray) -> None:
    assert all_words(engine.recognise(jfk, None)) == all_words(engine.recognise(jfk, "en-US"))


@pytest.mark.parametrize("vad", [True, False])
def test_silence_gives_no_segments(vad: bool) -> None:
    engine = load_engine(EngineSettings(vad=vad))
    assert engine.recognise(np.zeros(5 * SAMPLE_RATE, np.float32), "en-US") == []


@pytest.mark.parametrize("vad", [True, False])
@pytest.mark.parametrize("level", [0.003, 0.03])
def test_noise_gives_no_segments(vad: bool, level: float) -> None:
    engine = load_engine(EngineSettings(vad=vad))
    noise = np.random.default_rng(3).normal(0.0, level, 5 * SAMPLE_RATE).astype(np.float32)
    assert engine.recognise(noise, "en-US") == []


def test_engine_output_normalises_to_utterances(engine: Engine, jfk: np.ndarray) -> None:
    spec = RecognitionSpec(language="en-US")
    utterances = [
        build_utterance(s, 0, 60.0, spec, "en-US") for s in engine.recognise(jfk, "en-US")
    ]
    texts = " ".join(u.text for u in utterances if u is not None)
    assert word_errors(texts.split(), spoken(JFK_REFERENCE)) <= 1
    assert all(u is not None and u.start >= 60.0 for u in utterances)


def test_each_process_loads_a_model_once_per_settings() -> None:
    assert load_engine(EngineSettings()) is load_engine(EngineSettings())
    assert load_engine(EngineSettings(beam_size=1)) is not load_engine(EngineSettings())


def test_broken_weights_are_reported_with_the_setting(tmp_path: Path) -> None:
    directory = tmp_path / "model"
    directory.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (directory / name).write_bytes((default_model_dir() / name).read_bytes())
    (directory / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="ASYNCSTT_ENGINE__MODEL_DIR"):
        FasterWhisperEngine(EngineSettings(model_dir=directory))
