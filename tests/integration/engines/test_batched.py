"""The batched decoder (`batch_size` > 1, the default) on real speech: faster-whisper's BatchedInferencePipeline
over the loaded model, with our word times, confidences and no-speech filtering; and both decoders in silence and
noise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from faster_whisper import WhisperModel

from asyncstt.audio.voice import VoiceActivity
from asyncstt.engines import faster_whisper as faster_whisper_engine
from asyncstt.engines.base import SAMPLE_RATE, Engine, EngineSegment
from asyncstt.engines.catalog import load_engine
from asyncstt.engines.faster_whisper import FasterWhisperEngine, WindowByWindowWhisper
from asyncstt.engines.whisper_model import model_dir
from asyncstt.settings import EngineSettings
from tests.support.audio import read_wav_mono
from tests.support.wer import JFK_REFERENCE, LIBRIVOX, librivox_reference, word_errors

pytestmark = pytest.mark.integration

BATCHED = EngineSettings(batch_size=8)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return load_engine(BATCHED)


@pytest.fixture(scope="module")
def jfk(reference_audio: Path) -> np.ndarray:
    return read_wav_mono(reference_audio / "jfk.wav")


@pytest.fixture(scope="module")
def readings() -> tuple[np.ndarray, str]:
    """The five LibriVox utterances, 2 s of silence after each (so the VAD cuts them apart), and their text."""
    paths = sorted(LIBRIVOX.glob("*.wav"))
    gap = np.zeros(2 * SAMPLE_RATE, np.float32)
    samples = np.concatenate([part for path in paths for part in (read_wav_mono(path), gap)])
    return samples, " ".join(librivox_reference(path.stem) for path in paths)


def text(segments: list[EngineSegment]) -> str:
    return " ".join(word.text for segment in segments for word in segment.words)


def test_jfk_is_recognised_with_ordered_word_times_and_confidences(
    engine: Engine, jfk: np.ndarray
) -> None:
    segments = engine.recognise(jfk, "en-US")
    assert word_errors(text(segments), JFK_REFERENCE) <= 1
    words = [word for segment in segments for word in segment.words]
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert all(0.0 <= w.start <= w.end <= len(jfk) / SAMPLE_RATE for w in words)
    assert all(0.0 < w.probability <= 1.0 for w in words)
    assert all(s.start <= s.words[0].start and s.words[-1].end <= s.end for s in segments)


def test_speech_segments_keep_their_place_in_the_samples(
    engine: Engine, readings: tuple[np.ndarray, str]
) -> None:
    samples, reference = readings
    segments = engine.recognise(samples, "en-US")
    assert word_errors(text(segments), reference) <= 0.1 * len(reference.split())
    # Each recording's first word is heard where the recording starts in the samples, and no word is heard
    # in the middle of the 2 s gaps between them.
    starts = [word.start for segment in segments for word in segment.words]
    offset = 0.0
    for path in sorted(LIBRIVOX.glob("*.wav")):
        assert any(abs(start - offset) < 1.0 for start in starts), (offset, starts)
        offset += len(read_wav_mono(path)) / SAMPLE_RATE + 2.0
        assert not [start for start in starts if offset - 1.5 < start < offset - 0.5]


def test_without_vad_long_samples_are_decoded_in_windows(jfk: np.ndarray) -> None:
    engine = load_engine(EngineSettings(batch_size=8, vad=False))
    samples = np.concatenate([jfk, np.zeros(22 * SAMPLE_RATE, np.float32), jfk])
    segments = engine.recognise(samples, "en-US")
    assert word_errors(text(segments), f"{JFK_REFERENCE} {JFK_REFERENCE}") <= 2
    later = [word.start for segment in segments for word in segment.words if word.start > 20.0]
    assert later[0] == pytest.approx(33.0, abs=1.0)


@pytest.mark.parametrize("batch_size", [0, 8], ids=["sequential", "batched"])
@pytest.mark.parametrize("vad", [True, False])
@pytest.mark.parametrize("level", [0.0, 0.003, 0.03])
def test_silence_and_noise_give_no_segments(batch_size: int, vad: bool, level: float) -> None:
    engine = load_engine(EngineSettings(batch_size=batch_size, vad=vad))
    noise = np.random.default_rng(3).normal(0.0, level, 5 * SAMPLE_RATE).astype(np.float32)
    assert engine.recognise(noise, "en-US") == []


def test_windows_encoded_one_at_a_time_match_the_batch_encoded_at_once(
    readings: tuple[np.ndarray, str],
) -> None:
    directory = str(model_dir(BATCHED))
    whole = WhisperModel(directory, device="cpu", compute_type="int8", cpu_threads=1)
    by_window = WindowByWindowWhisper(directory, device="cpu", compute_type="int8", cpu_threads=1)
    samples, _ = readings
    window = 30 * SAMPLE_RATE
    laid = np.zeros(3 * window, np.float32)
    laid[: min(len(samples), len(laid))] = samples[: len(laid)]
    features = np.stack(
        [
            whole.feature_extractor(laid[start : start + window])[:, :3000]
            for start in (0, window, 2 * window)
        ]
    )
    expected = np.asarray(whole.encode(features))
    encoded = np.asarray(by_window.encode(features))
    assert encoded.shape == expected.shape == (3, 1500, 384)
    np.testing.assert_allclose(encoded, expected, atol=1e-3)


def test_given_the_planners_voice_activity_the_engine_runs_no_vad_and_hears_the_same(
    engine: Engine, readings: tuple[np.ndarray, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    samples, _ = readings
    # Faint noise over the silences: the planner skips digital silence, which faster-whisper's VAD judges.
    samples = samples + np.random.default_rng(9).normal(0, 0.001, len(samples)).astype(np.float32)
    own = engine.recognise(samples, "en-US")
    voice = VoiceActivity()
    heard = np.concatenate([voice.feed(samples), voice.finish()])

    def refused(*_: object, **__: object) -> None:
        raise AssertionError("the engine ran its VAD although the slice carried its voice activity")

    monkeypatch.setattr(faster_whisper_engine, "get_speech_timestamps", refused)
    given = engine.recognise(samples, "en-US", speech=heard)
    assert [w.text for s in given for w in s.words] == [w.text for s in own for w in s.words]
    with pytest.raises(AssertionError, match="ran its VAD"):
        engine.recognise(samples, "en-US")


def test_speech_a_packed_window_left_unheard_is_decoded_again(
    engine: Engine, readings: tuple[np.ndarray, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    samples, _ = readings
    whole = engine.recognise(samples, "en-US")
    # Whisper skipping the third recording in its window, as it sometimes does in a packed one.
    paths = sorted(LIBRIVOX.glob("*.wav"))
    lengths = [len(read_wav_mono(path)) / SAMPLE_RATE + 2.0 for path in paths]
    skipped = (sum(lengths[:2]), sum(lengths[:3]) - 2.0)
    decode = FasterWhisperEngine._decode
    passes: list[list[float]] = []

    def skipping(self: FasterWhisperEngine, *args: Any) -> tuple[list[EngineSegment], Any]:
        segments, info = decode(self, *args)
        passes.append([piece.start / SAMPLE_RATE for w in args[1] for piece in w.pieces])
        if len(passes) == 1:
            segments = [s for s in segments if not skipped[0] - 0.5 <= s.start < skipped[1]]
        return segments, info

    monkeypatch.setattr(FasterWhisperEngine, "_decode", skipping)
    recovered = engine.recognise(samples, "en-US")
    assert len(passes) == 2
    # Only what was left unheard is decoded again.
    assert all(skipped[0] - 1.0 <= start < skipped[1] for start in passes[1]), passes[1]
    assert text(recovered) == text(whole)
    starts = [s.start for s in recovered]
    assert starts == sorted(starts)
