"""Candidate languages from a recognition spec to the engine: a slice of real audio through the task."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from asyncstt.audio.probe import probe
from asyncstt.engines.base import SAMPLE_RATE
from asyncstt.engines.catalog import load_engine
from asyncstt.engines.fake import FakeEngine
from asyncstt.engines.faster_whisper import EngineFailure, FasterWhisperEngine
from asyncstt.engines.whisper_model import MULTILINGUAL_TOKEN, default_model_dir
from asyncstt.errors import InvalidArgument
from asyncstt.pipeline.plan import SliceSpec
from asyncstt.pipeline.task import SliceJob, recognise_slice
from asyncstt.recognition import AudioEncoding, RecognitionSpec
from asyncstt.settings import EngineSettings, LimitSettings

pytestmark = pytest.mark.integration

#: The fake engine, which detects as if it measured en-US 0.6, ru-RU 0.3, de-DE 0.1.
FAKE = EngineSettings(kind="fake")


def job(audio: Path, spec: RecognitionSpec, language: str | None) -> SliceJob:
    info = probe(audio, AudioEncoding.WAV, 16000, 1, LimitSettings())
    return SliceJob("op", str(audio), info, SliceSpec(0, 0, 0.0, None), spec, language, FAKE)


@pytest.fixture
def engine() -> FakeEngine:
    """The fake the slices run on (the one this process loaded for `FAKE`), its records of earlier tests cleared."""
    fake = load_engine(FAKE)
    assert isinstance(fake, FakeEngine)
    fake.calls.clear()
    fake.detections.clear()
    return fake


def test_detection_chooses_among_the_spec_candidates(
    engine: FakeEngine, reference_audio: Path
) -> None:
    spec = RecognitionSpec(language="auto", language_candidates=("de-DE", "ru-RU"))
    result = recognise_slice(job(reference_audio / "jfk.wav", spec, None))
    assert engine.detections == [("de-DE", "ru-RU")]
    assert len(engine.calls) == 1
    assert result.utterances[0].raw_text == "alpha"
    assert {(u.language, round(u.language_probability, 9)) for u in result.utterances} == {
        ("ru-RU", 0.75)
    }


def test_a_named_language_ignores_the_candidates(engine: FakeEngine, reference_audio: Path) -> None:
    spec = RecognitionSpec(language="ru-RU", language_candidates=("en-US",))
    result = recognise_slice(job(reference_audio / "jfk.wav", spec, "ru-RU"))
    assert engine.detections == []
    assert [language for _, language in engine.calls] == ["ru-RU"]
    assert result.utterances
    assert {u.language for u in result.utterances} == {None}


def read_jfk(reference_audio: Path) -> np.ndarray:
    with wave.open(str(reference_audio / "jfk.wav")) as wav:
        assert wav.getframerate() == SAMPLE_RATE
        frames = wav.readframes(wav.getnframes())
    return (np.frombuffer(frames, "<i2") / 32768).astype(np.float32)


def test_english_only_model_recognises_auto_among_english(reference_audio: Path) -> None:
    engine = load_engine(EngineSettings())
    segments = engine.recognise(read_jfk(reference_audio), "auto", ["en-US"])
    assert "country" in " ".join(s.text for s in segments).lower()
    # One language served: nothing was detected, so nothing is reported.
    assert {s.language for s in segments} == {None}
    with pytest.raises(
        InvalidArgument, match=r"^language ru-RU is not installed; installed: en-US$"
    ):
        engine.recognise(read_jfk(reference_audio), None, ["ru-RU"])


def test_english_weights_behind_a_multilingual_vocabulary_fail_as_an_engine_failure(
    tmp_path: Path, reference_audio: Path
) -> None:
    """The bundled tiny.en linked with the multilingual marker token loads and claims every language, but every
    special token is then off by one: asking for Russian is refused by CTranslate2, reported as ours."""
    bundled = default_model_dir()
    directory = tmp_path / "multilingual"
    directory.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(bundled / name, directory / name)
    (directory / "model.bin").symlink_to(bundled / "model.bin")
    vocabulary = (bundled / "vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]
    end = vocabulary.index("<|endoftext|>")
    vocabulary.insert(end, MULTILINGUAL_TOKEN)
    (directory / "vocabulary.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    engine = FasterWhisperEngine(EngineSettings(model_dir=directory))
    assert engine.capabilities.detects_language
    with pytest.raises(EngineFailure, match="startoftranscript"):
        engine.recognise(read_jfk(reference_audio)[: 2 * SAMPLE_RATE], "ru-RU")
