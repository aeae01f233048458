# ruff: noqa: RUF001
from __future__ import annotations

import pytest

from asyncstt.text.profanity import WordList, is_profane, mask_profanity, mask_word, word_list


def test_mask_keeps_the_first_letter() -> None:
    assert mask_word("fuck") == "f***"
    assert mask_word("Сука") == "С***"
    assert mask_word("a") == "a"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("What the fuck, Motherfucker!", "What the f***, M***********!"),
        ("Shit happens", "S*** happens"),
        ("bullshit", "b*******"),
        ("Scunthorpe cocktail class", "Scunthorpe cocktail class"),
        ("A country can do for you", "A country can do for you"),
    ],
)
def test_english(text: str, masked: str) -> None:
    assert mask_profanity(text, "en-US") == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Ну ёбаный стыд", "Ну ё***** стыд"),
        ("заебал, пиздец", "з*****, п*****"),
        ("Бля, сука", "Б**, с***"),
        ("распиздяй и нахуй", "р******** и н****"),
        # Look-alikes that are ordinary words:
        ("небо и хлеба, бляха, сукно, страхуй", "небо и хлеба, бляха, сукно, страхуй"),
    ],
)
def test_russian(text: str, masked: str) -> None:
    assert mask_profanity(text, "ru-RU") == masked


def test_english_list_applies_to_every_language_the_russian_only_to_russian() -> None:
    assert mask_profanity("fuck сука", "de-DE") == "f*** сука"
    assert is_profane("fucking", "ru-RU")
    assert not is_profane("сука", "en-US")


def test_word_list_format() -> None:
    words = WordList.parse("# comment\nexact\nstem*\n*part*\n\n")
    assert words.matches("Exact")
    assert not words.matches("exactly")
    assert words.matches("stems")
    assert not words.matches("unstem")
    assert words.matches("apartment")


def test_shipped_lists_load() -> None:
    assert word_list("en-US").matches("fuck")
    assert word_list("ru").matches("пизда")
    assert word_list("xx-XX") == WordList()
