"""The engine catalog: a factory for every kind the settings can name, and one loaded engine per settings."""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

import numpy as np
import pytest
from pydantic import ValidationError

from asyncstt.engines.base import SAMPLE_RATE, EngineCapabilities
from asyncstt.engines.catalog import CATALOG, describe_engine, factory, load_engine
from asyncstt.engines.fake import FakeEngine
from asyncstt.languages import SPEECHKIT_LANGUAGES
from asyncstt.settings import EngineKind, EngineSettings, Settings
from tests.support.environment import child_environment

FAKE = EngineSettings(kind="fake")


def tone(seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), np.float32)


#: Loud 0.5-1.5 s and 2.0-2.5 s.
SIGNAL = np.concatenate([silence(0.5), tone(1.0), silence(0.5), tone(0.5), silence(0.5)])


def test_every_kind_the_settings_can_name_has_a_factory() -> None:
    assert set(CATALOG) == set(get_args(EngineKind)) == {"faster-whisper", "fake"}
    with pytest.raises(ValidationError, match="kind"):
        EngineSettings(kind="whisper.cpp")


def test_the_fake_is_chosen_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASYNCSTT_ENGINE__KIND", "fake")
    settings = Settings().engine
    assert settings == FAKE
    engine = load_engine(settings)
    assert isinstance(engine, FakeEngine)
    every = EngineCapabilities("fake", frozenset(SPEECHKIT_LANGUAGES), detects_language=True)
    assert describe_engine(settings) == engine.capabilities == every
    assert factory(settings).summary(settings).startswith("the fake engine")


def test_the_fake_from_settings_says_its_words_where_the_samples_are_loud() -> None:
    engine = load_engine(FAKE)
    named = engine.recognise(SIGNAL, "ru-RU")
    assert [(s.start, s.end, s.text, s.language) for s in named] == [
        (0.5, 1.5, "alpha", None),
        (2.0, 2.5, "bravo", None),
    ]
    assert engine.recognise(SIGNAL[SAMPLE_RATE:], "ru-RU")[0].text == "alpha"
    detected = engine.recognise(SIGNAL, "auto")
    assert {(s.language, s.language_probability) for s in detected} == {("en-US", 1.0)}
    chosen = engine.recognise(SIGNAL, None, ["de-DE", "ru-RU"])
    assert {(s.language, round(s.language_probability, 9)) for s in chosen} == {("ru-RU", 0.75)}
    assert engine.recognise(silence(2.0), None) == []


def test_each_process_keeps_one_engine_per_settings() -> None:
    assert load_engine(FAKE) is load_engine(EngineSettings(kind="fake"))
    other = load_engine(EngineSettings(kind="fake", beam_size=1))
    assert other is not load_engine(FAKE)
    assert other.recognise(SIGNAL, "en-US") == load_engine(FAKE).recognise(SIGNAL, "en-US")


def test_describing_faster_whisper_imports_no_model_library() -> None:
    """The API process describes the engine to check requests; CTranslate2 stays out of it."""
    code = (
        "import sys\n"
        "import asyncstt.server.process\n"
        "from asyncstt.engines.catalog import describe_engine\n"
        "from asyncstt.settings import EngineSettings\n"
        "capabilities = describe_engine(EngineSettings())\n"
        "loaded = sorted(m for m in ('ctranslate2', 'faster_whisper', 'onnxruntime') if m in sys.modules)\n"
        "print(capabilities.name, sorted(capabilities.languages), loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "faster-whisper ['en-US'] []"
