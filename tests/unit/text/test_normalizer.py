# ruff: noqa: RUF001
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pytest

from asyncstt.engines.base import EngineSegment, EngineWord
from asyncstt.recognition import RecognitionSpec, Word
from asyncstt.text.normalizer import build_utterance, plain_text, spoken_words


def segment(*words: tuple[str, float, float, float], language: str | None = None) -> EngineSegment:
    """A segment as Whisper writes one: words with a leading space, the text their concatenation."""
    engine_words = tuple(EngineWord(f" {text}", start, end, p) for text, start, end, p in words)
    return EngineSegment(
        text="".join(w.text for w in engine_words),
        start=words[0][1],
        end=words[-1][2],
        words=engine_words,
        language=language,
        language_probability=0.9 if language else 0.0,
    )


ENGLISH = segment(
    ("Twelve", 0.0, 0.5, 0.9),
    ("orders,", 0.5, 1.0, 0.8),
    ("1,000", 1.0, 2.1, 0.7),
    ("people", 2.1, 2.5, 1.0),
    ("and", 2.5, 2.7, 1.0),
    ("3.5%", 2.7, 3.5, 0.5),
    ("—", 3.5, 3.5, 0.5),
    ("what", 3.5, 3.7, 1.0),
    ("the", 3.7, 3.8, 1.0),
    ("fuck?", 3.8, 4.2, 1.0),
    ("Don’t!", 4.2, 4.6, 1.0),
)
RUSSIAN = segment(
    ("Здравствуйте,", 2.9, 3.15, 1.0), ("12", 3.5, 3.72, 1.0), ("заказов.", 3.76, 4.1, 1.0)
)


def spec(
    language: str = "en-US", flags: Mapping[str, bool] = MappingProxyType({})
) -> RecognitionSpec:
    return RecognitionSpec(
        language=language,
        profanity_filter=flags.get("profanity_filter", False),
        literature_text=flags.get("literature_text", False),
        raw_results=flags.get("raw_results", False),
    )


@pytest.mark.parametrize(
    ("flags", "text"),
    [
        ({}, "12 orders 1000 people and 3.5% what the fuck don't"),
        ({"literature_text": True}, "12 orders, 1,000 people and 3.5% — what the fuck? Don’t!"),
        (
            {"raw_results": True},
            "twelve orders one thousand people and three point five percent what the fuck don't",
        ),
        (
            {"literature_text": True, "raw_results": True},
            "Twelve orders, one thousand people and three point five percent — what the fuck? Don’t!",
        ),
        ({"profanity_filter": True}, "12 orders 1000 people and 3.5% what the f*** don't"),
        (
            {"literature_text": True, "profanity_filter": True},
            "12 orders, 1,000 people and 3.5% — what the f***? Don’t!",
        ),
    ],
)
def test_english_text_modes(flags: dict[str, bool], text: str) -> None:
    utterance = build_utterance(ENGLISH, 0, 0.0, spec("en-US", flags), "en-US")
    assert utterance is not None
    assert utterance.text == text


@pytest.mark.parametrize(
    ("flags", "text"),
    [
        ({}, "здравствуйте 12 заказов"),
        ({"literature_text": True}, "Здравствуйте, 12 заказов."),
        ({"raw_results": True}, "здравствуйте двенадцать заказов"),
        ({"literature_text": True, "raw_results": True}, "Здравствуйте, двенадцать заказов."),
    ],
)
def test_russian_text_modes(flags: dict[str, bool], text: str) -> None:
    utterance = build_utterance(RUSSIAN, 1, 0.0, spec("ru-RU", flags), "ru-RU")
    assert utterance is not None
    assert utterance.text == text
    assert [w.text for w in utterance.words] == ["здравствуйте", "двенадцать", "заказов"]
    assert utterance.raw_text == "здравствуйте двенадцать заказов"
    assert utterance.channel == 1


def test_words_are_spoken_and_numbers_share_their_time() -> None:
    utterance = build_utterance(ENGLISH, 0, 10.0, spec(), "en-US")
    assert utterance is not None
    assert [w.text for w in utterance.words] == (
        [
            "twelve",
            "orders",
            "one",
            "thousand",
            "people",
            "and",
            "three",
            "point",
            "five",
            "percent",
            "what",
            "the",
            "fuck",
            "don't",
        ]
    )
    # "1,000" spanned 1.0-2.1 s: "one" and "thousand" split it 3:8 by length.
    one, thousand = utterance.words[2:4]
    assert (one.start, one.end) == (11.0, 11.3)
    assert (thousand.start, thousand.end) == (11.3, 12.1)
    assert one.confidence == thousand.confidence == 0.7
    assert utterance.raw_text == " ".join(w.text for w in utterance.words)
    assert (utterance.start, utterance.end) == (10.0, 14.6)


def test_profanity_is_masked_in_words_and_raw_text_too() -> None:
    utterance = build_utterance(
        ENGLISH, 0, 0.0, spec("en-US", {"profanity_filter": True, "raw_results": True}), "en-US"
    )
    assert utterance is not None
    assert "f***" in [w.text for w in utterance.words]
    assert "fuck" not in utterance.raw_text
    assert "fuck" not in utterance.text


def test_confidence_is_the_mean_word_probability_within_bounds() -> None:
    utterance = build_utterance(
        segment(("yes", 0.0, 0.2, 0.5), ("no", 0.2, 0.4, 1.5)), 0, 0.0, spec(), "en-US"
    )
    assert utterance is not None
    assert utterance.confidence == 0.75
    assert [w.confidence for w in utterance.words] == [0.5, 1.0]


def test_engine_that_spells_numbers_gets_digits_in_text() -> None:
    utterance = build_utterance(
        segment(("twenty-one", 0.0, 1.0, 1.0), ("orders", 1.0, 1.4, 1.0)), 0, 0.0, spec(), "en-US"
    )
    assert utterance is not None
    assert utterance.text == "21 orders"
    assert [w.text for w in utterance.words] == ["twenty", "one", "orders"]


def test_nothing_speakable_gives_none() -> None:
    assert (
        build_utterance(
            segment(("♪", 0.0, 1.0, 0.5), ("...", 1.0, 2.0, 0.5)), 0, 0.0, spec(), "en-US"
        )
        is None
    )


def test_detected_language_drives_normalisation_and_is_reported() -> None:
    detected = segment(("12", 0.0, 0.5, 1.0), ("заказов", 0.5, 1.0, 1.0), language="ru-RU")
    utterance = build_utterance(detected, 0, 0.0, spec("auto"), "auto")
    assert utterance is not None
    assert utterance.raw_text == "двенадцать заказов"
    assert (utterance.language, utterance.language_probability) == ("ru-RU", 0.9)


def test_spoken_words_of_one_engine_word() -> None:
    assert spoken_words(EngineWord(" 22", 1.0, 1.6, 0.9), "en-US") == [
        Word("twenty", 1.0, 1.4, 0.9),
        Word("two", 1.4, 1.6, 0.9),
    ]
    assert [w.text for w in spoken_words(EngineWord(" 21st,", 1.0, 1.6, 0.9), "en-US")] == [
        "twenty",
        "first",
    ]
    assert spoken_words(EngineWord(" что-то", 0.0, 0.5, 1.0), "ru-RU") == [
        Word("что-то", 0.0, 0.5, 1.0)
    ]
    assert spoken_words(EngineWord(" ,", 0.0, 0.5, 1.0), "ru-RU") == []


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("It's 10:30, isn't it?", "it's 10:30 isn't it"),
        ("Prices rose 3.5% (from $1,200).", "prices rose 3.5% from $1200"),
        ("Twenty-one — no, twenty two!", "21 no 22"),
        ("-5 degrees, well-known", "-5 degrees well-known"),
    ],
)
def test_plain_text(text: str, plain: str) -> None:
    assert plain_text(text, "en-US") == plain
