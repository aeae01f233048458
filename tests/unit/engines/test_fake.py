from __future__ import annotations

import numpy as np
import pytest

from asyncstt.engines.base import SAMPLE_RATE, EngineCapabilities, EngineSegment, EngineWord
from asyncstt.engines.fake import FakeEngine, loud_regions
from asyncstt.errors import InvalidArgument


def tone(seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), np.float32)


#: Loud 0.5-1.5 s and 2.0-2.6 s (with a 0.1 s dip at 2.3 s that is bridged), 3.6 s in all.
SIGNAL = np.concatenate(
    [silence(0.5), tone(1.0), silence(0.5), tone(0.3), silence(0.1), tone(0.2), silence(1.0)]
)


def test_scripted_segments_are_returned_and_calls_recorded() -> None:
    scripted = EngineSegment("Hi.", 0.1, 0.4, (EngineWord("Hi.", 0.1, 0.4, 0.9),))
    engine = FakeEngine([scripted])
    assert engine.recognise(SIGNAL, "ru-ru") == [scripted]
    assert engine.recognise(SIGNAL, None) == [scripted]
    assert engine.calls == [(len(SIGNAL), "ru-ru"), (len(SIGNAL), None)]


def test_script_function_gets_the_canonical_language() -> None:
    seen: list[str | None] = []

    def script(samples: np.ndarray, language: str | None) -> list[EngineSegment]:
        seen.append(language)
        return []

    engine = FakeEngine(script)
    engine.recognise(SIGNAL, "EN-us")
    engine.recognise(SIGNAL, "auto")
    assert seen == ["en-US", None]


def test_unserved_language_is_refused() -> None:
    english = EngineCapabilities("fake", frozenset({"en-US"}), detects_language=False)
    engine = FakeEngine([], english)
    with pytest.raises(
        InvalidArgument, match=r"^language ru-RU is not installed; installed: en-US$"
    ):
        engine.recognise(SIGNAL, "ru-RU")
    assert engine.recognise(SIGNAL, None) == []
    assert engine.calls == [(len(SIGNAL), None)]


def test_from_energy_places_one_segment_per_loud_region() -> None:
    engine = FakeEngine.from_energy(["alpha", "beta", "gamma"], words_per_region=2)
    segments = engine.recognise(SIGNAL, "en-US")
    assert [(s.start, s.end, s.text) for s in segments] == [
        (0.5, 1.5, "alpha beta"),
        (2.0, 2.6, "gamma alpha"),
    ]
    assert [(w.text, w.start, w.end) for w in segments[0].words] == [
        ("alpha", 0.5, 1.0),
        ("beta", 1.0, 1.5),
    ]
    assert all(s.language is None for s in segments)
    assert engine.recognise(SIGNAL, "en-US") == segments


def test_from_energy_times_follow_the_samples_given() -> None:
    engine = FakeEngine.from_energy(["word"])
    sliced = engine.recognise(SIGNAL[SAMPLE_RATE:], "en-US")
    assert [(s.start, s.end) for s in sliced] == [(0.0, 0.5), (1.0, 1.6)]


def test_from_energy_reports_the_language_when_asked_to_detect() -> None:
    segments = FakeEngine.from_energy(["hola"], detected_language="es-ES").recognise(SIGNAL, None)
    assert {(s.language, s.language_probability) for s in segments} == {("es-ES", 1.0)}


def test_silence_gives_nothing() -> None:
    assert FakeEngine.from_energy(["word"]).recognise(silence(5.0), "en-US") == []
    assert FakeEngine.from_energy(["word"]).recognise(silence(0.0), "en-US") == []


def test_loud_regions_bridge_short_gaps_only() -> None:
    assert loud_regions(SIGNAL, threshold=0.01, min_silence=0.05) == [
        (0.5, 1.5),
        (2.0, 2.3),
        (2.4, 2.6),
    ]


def test_from_energy_needs_words() -> None:
    with pytest.raises(InvalidArgument):
        FakeEngine.from_energy([])
