"""Numbers, dates, phones and profanity through every text mode of v2 and v3, in Russian and English."""

# ruff: noqa: RUF001
from __future__ import annotations

import pytest

from asyncstt.engines.base import EngineSegment, EngineWord
from asyncstt.recognition import RecognitionSpec
from asyncstt.text.normalizer import build_utterance


def said(text: str) -> EngineSegment:
    """A segment as Whisper writes one: a word a second, each with its leading space."""
    words = tuple(EngineWord(f" {w}", i, i + 1.0, 1.0) for i, w in enumerate(text.split()))
    return EngineSegment(f" {text}", 0.0, float(len(words)), words)


RUSSIAN = said("Блять, двенадцать заказов до двадцать пятого декабря, звоните 8 999 123-45-67.")
ENGLISH = said("Shit, twelve orders by the twenty fifth of December, call 555 123 4567.")
RUSSIAN_RAW = (
    "блять двенадцать заказов до двадцать пятого декабря звоните восемь девятьсот девяносто девять"
    " сто двадцать три сорок пять шестьдесят семь"
)
ENGLISH_RAW = (
    "shit twelve orders by the twenty fifth of december call five hundred and fifty five"
    " one hundred and twenty three four thousand five hundred and sixty seven"
)


def v2_spec(
    language: str, *, literature: bool = False, raw: bool = False, profanity: bool = False
) -> RecognitionSpec:
    """v2 `config.specification`: the three flags map one to one; v2 never formats phones."""
    return RecognitionSpec(
        language=language, literature_text=literature, raw_results=raw, profanity_filter=profanity
    )


def v3_spec(
    language: str,
    *,
    normalization: bool,
    literature: bool = False,
    profanity: bool = False,
    phones: bool = True,
) -> RecognitionSpec:
    """v3 `text_normalization` as contract §3.5 reads: profanity, literature text and phone formatting take
    effect only with normalization enabled; disabled, the text is the raw spoken form."""
    if not normalization:
        return RecognitionSpec(language=language, raw_results=True)
    return RecognitionSpec(
        language=language,
        literature_text=literature,
        profanity_filter=profanity,
        phone_formatting=phones,
    )


def text_of(segment: EngineSegment, spec: RecognitionSpec) -> str:
    utterance = build_utterance(segment, 0, 0.0, spec, spec.language)
    assert utterance is not None
    return utterance.text


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (v2_spec("ru-RU"), "блять 12 заказов до 25 декабря звоните 8 999 123-45-67"),
        (
            v2_spec("ru-RU", literature=True),
            "Блять, 12 заказов до 25 декабря, звоните 8 999 123-45-67.",
        ),
        (v2_spec("ru-RU", raw=True), RUSSIAN_RAW),
        (
            v2_spec("ru-RU", profanity=True),
            "б**** 12 заказов до 25 декабря звоните 8 999 123-45-67",
        ),
        (
            v2_spec("ru-RU", literature=True, raw=True, profanity=True),
            "Б****, двенадцать заказов до двадцать пятого декабря, звоните восемь девятьсот девяносто"
            " девять сто двадцать три-сорок пять-шестьдесят семь.",
        ),
        (
            v3_spec("ru-RU", normalization=True),
            "блять 12 заказов до 25 декабря звоните 8(999)123-45-67",
        ),
        (
            v3_spec("ru-RU", normalization=True, literature=True, profanity=True),
            "Б****, 12 заказов до 25 декабря, звоните 8(999)123-45-67.",
        ),
        (
            v3_spec("ru-RU", normalization=True, phones=False),
            "блять 12 заказов до 25 декабря звоните 8 999 123-45-67",
        ),
        (v3_spec("ru-RU", normalization=False), RUSSIAN_RAW),
    ],
)
def test_russian(spec: RecognitionSpec, text: str) -> None:
    assert text_of(RUSSIAN, spec) == text


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        (v2_spec("en-US"), "shit 12 orders by december 25 call 555 123 4567"),
        (
            v2_spec("en-US", literature=True),
            "Shit, 12 orders by December 25, call 555 123 4567.",
        ),
        (v2_spec("en-US", raw=True), ENGLISH_RAW),
        (v2_spec("en-US", profanity=True), "s*** 12 orders by december 25 call 555 123 4567"),
        (
            v3_spec("en-US", normalization=True),
            "shit 12 orders by december 25 call (555)123-4567",
        ),
        (
            v3_spec("en-US", normalization=True, literature=True, profanity=True),
            "S***, 12 orders by December 25, call (555)123-4567.",
        ),
        (
            v3_spec("en-US", normalization=True, phones=False),
            "shit 12 orders by december 25 call 555 123 4567",
        ),
        (v3_spec("en-US", normalization=False), ENGLISH_RAW),
    ],
)
def test_english(spec: RecognitionSpec, text: str) -> None:
    assert text_of(ENGLISH, spec) == text


def test_phone_said_in_words_is_formatted() -> None:
    spoken = said(
        "мой номер восемь девятьсот девяносто девять сто двадцать три сорок пять шестьдесят семь"
    )
    assert text_of(spoken, v3_spec("ru-RU", normalization=True)) == "мой номер 8(999)123-45-67"


def test_date_said_first_of_may_in_russian() -> None:
    assert text_of(said("Встретимся первого мая."), v2_spec("ru-RU")) == "встретимся 1 мая"


def test_words_stay_spoken_whatever_the_text_mode() -> None:
    spec = v3_spec("ru-RU", normalization=True, literature=True)
    utterance = build_utterance(RUSSIAN, 0, 0.0, spec, "ru-RU")
    assert utterance is not None
    assert utterance.raw_text == RUSSIAN_RAW
    assert [w.text for w in utterance.words][:3] == ["блять", "двенадцать", "заказов"]
