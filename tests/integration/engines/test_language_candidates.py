"""Candidate languages from a recognition spec to the engine: a slice of real audio through the task."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncstt.audio.probe import probe
from asyncstt.engines.base import Engine
from asyncstt.engines.fake import FakeEngine
from asyncstt.pipeline import task
from asyncstt.pipeline.plan import SliceSpec
from asyncstt.pipeline.task import SliceJob, recognise_slice
from asyncstt.recognition import AudioEncoding, RecognitionSpec
from asyncstt.settings import EngineSettings, LimitSettings

pytestmark = pytest.mark.integration

HEARD = {"de-DE": 0.6, "ru-RU": 0.3, "en-US": 0.1}


def job(audio: Path, spec: RecognitionSpec, language: str | None) -> SliceJob:
    info = probe(audio, AudioEncoding.WAV, 16000, 1, LimitSettings())
    return SliceJob(
        "op", str(audio), info, SliceSpec(0, 0, 0.0, None), spec, language, EngineSettings()
    )


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = FakeEngine.from_energy(["слово"], threshold=0.05, heard=HEARD)

    def load(settings: EngineSettings) -> Engine:
        return fake

    monkeypatch.setattr(task, "load_engine", load)
    return fake


def test_detection_chooses_among_the_spec_candidates(engine: FakeEngine, shared_data: Path) -> None:
    spec = RecognitionSpec(language="auto", language_candidates=("en-US", "ru-RU"))
    result = recognise_slice(job(shared_data / "jfk.wav", spec, None))
    assert engine.detections == [("en-US", "ru-RU")]
    assert result.utterances
    assert {(u.language, round(u.language_probability, 9)) for u in result.utterances} == {
        ("ru-RU", 0.75)
    }


def test_a_named_language_ignores_the_candidates(engine: FakeEngine, shared_data: Path) -> None:
    spec = RecognitionSpec(language="ru-RU", language_candidates=("en-US",))
    result = recognise_slice(job(shared_data / "jfk.wav", spec, "ru-RU"))
    assert engine.detections == []
    assert result.utterances
    assert {u.language for u in result.utterances} == {None}
