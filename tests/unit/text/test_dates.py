# ruff: noqa: RUF001
from __future__ import annotations

import pytest

from asyncstt.text.dates import format_dates
from asyncstt.text.numerals import digits_from_words


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("двадцать пятое декабря", "25 декабря"),
        ("первого мая", "1 мая"),
        ("до десятого марта", "до 10 марта"),
        ("двадцать второе февраля", "22 февраля"),
        ("тридцать первого декабря две тысячи двадцать третьего года", "31 декабря 2023 года"),
        ("Двадцать пятое Декабря", "25 Декабря"),
        ("в конце мая", "в конце мая"),
        ("сорокового мая", "сорокового мая"),
        ("двенадцать заказов", "12 заказов"),
        ("в две тысячи двадцать третьем году", "в 2023-м году"),
    ],
)
def test_russian_dates_lose_the_ordinal_ending(spoken: str, written: str) -> None:
    assert format_dates(digits_from_words(spoken, "ru-RU"), "ru-RU") == written


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("the twenty fifth of december", "december 25"),
        ("december twenty fifth", "december 25"),
        ("on the second of march", "on march 2"),
        ("march the third", "march 3"),
        ("first of may", "may 1"),
        ("May 1st", "May 1"),
        ("On the 25th of December, 2023.", "On December 25, 2023."),
        ("December 31st", "December 31"),
        ("december twenty five", "december 25"),
        ("you may first check", "you may first check"),
        ("we march forward", "we march forward"),
        ("the thirty second of may", "the 32nd of may"),
        ("twenty first century", "21st century"),
    ],
)
def test_english_dates_are_month_then_day(spoken: str, written: str) -> None:
    assert format_dates(digits_from_words(spoken, "en-US"), "en-US") == written


def test_other_languages_are_unchanged() -> None:
    assert format_dates("25-е декабря", "de-DE") == "25-е декабря"
