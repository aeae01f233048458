"""Language detection among the client's candidate languages, through the FakeEngine and the pure chooser."""

from __future__ import annotations

import numpy as np
import pytest

from asyncstt.engines.base import SAMPLE_RATE, Engine, EngineCapabilities, EngineSegment, EngineWord
from asyncstt.engines.detection import choose_language
from asyncstt.engines.fake import FakeEngine
from asyncstt.errors import InvalidArgument

SIGNAL = (0.3 * np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)).astype(np.float32)
#: What detection "measures" over every language: German first, then Russian, then English.
HEARD = {"de-DE": 0.6, "ru-RU": 0.3, "en-US": 0.1}
ENGLISH_ONLY = EngineCapabilities("fake", frozenset({"en-US"}), detects_language=False)


def test_the_most_probable_candidate_wins_renormalised() -> None:
    language, probability = choose_language(HEARD, ["en-US", "ru-RU"])
    assert (language, round(probability, 9)) == ("ru-RU", 0.75)
    language, probability = choose_language(HEARD, ["de-DE", "ru-RU", "en-US"])
    assert (language, round(probability, 9)) == ("de-DE", 0.6)


def test_candidates_detection_never_heard_share_evenly_first_wins() -> None:
    assert choose_language(HEARD, ["fr-FR", "es-ES"]) == ("fr-FR", 0.5)
    assert choose_language({"fr-FR": 0.2, "es-ES": 0.2}, ["es-ES", "fr-FR"]) == ("es-ES", 0.5)


def test_choosing_needs_a_candidate() -> None:
    with pytest.raises(InvalidArgument):
        choose_language(HEARD, [])


def test_fake_detects_among_candidates_and_recognises_in_the_choice() -> None:
    asked: list[str | None] = []

    def script(samples: np.ndarray, language: str | None) -> list[EngineSegment]:
        asked.append(language)
        return [EngineSegment("да", 0.1, 0.4, (EngineWord("да", 0.1, 0.4, 0.9),))]

    engine: Engine = FakeEngine(script, heard=HEARD)
    segments = engine.recognise(SIGNAL, "auto", ["en-US", "ru-RU"])
    assert asked == ["ru-RU"]
    assert [(s.language, round(s.language_probability, 9)) for s in segments] == [("ru-RU", 0.75)]


def test_fake_without_candidates_or_with_a_language_does_not_choose() -> None:
    engine = FakeEngine.from_energy(["hola"], detected_language="es-ES", heard=HEARD)
    detected = engine.recognise(SIGNAL, None)
    assert {(s.language, s.language_probability) for s in detected} == {("es-ES", 1.0)}
    named = engine.recognise(SIGNAL, "en-US", ["ru-RU"])
    assert {s.language for s in named} == {None}
    assert engine.detections == []


def test_fake_records_the_candidates_it_chose_among() -> None:
    engine = FakeEngine.from_energy(["word"], heard=HEARD)
    segments = engine.recognise(SIGNAL, None, ["kk-kz", "de-DE"])
    assert engine.detections == [("kk-KZ", "de-DE")]
    assert {(s.language, s.language_probability) for s in segments} == {("de-DE", 1.0)}
    assert engine.calls == [(len(SIGNAL), None)]


def test_single_candidate_is_the_language() -> None:
    engine = FakeEngine.from_energy(["word"])
    segments = engine.recognise(SIGNAL, None, ["ru-RU"])
    assert {(s.language, s.language_probability) for s in segments} == {("ru-RU", 1.0)}


def test_english_only_engine_recognises_english_and_refuses_other_candidates() -> None:
    engine = FakeEngine.from_energy(["word"], capabilities=ENGLISH_ONLY)
    # `auto` on a one-language model is that language: nothing is detected, nothing reported.
    assert {s.language for s in engine.recognise(SIGNAL, "auto", ["en-US"])} == {None}
    with pytest.raises(
        InvalidArgument, match=r"^language ru-RU is not installed; installed: en-US$"
    ):
        engine.recognise(SIGNAL, None, ["ru-RU"])
