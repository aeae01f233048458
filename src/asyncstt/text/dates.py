"""Dates in text whose numbers are already digits: the day of a month written the way print writes it.

* Russian: `25-е декабря` / `первого мая` -> `25 декабря` / `1 мая`; a year after the month loses its case
  ending too: `31-го декабря 2023-го года` -> `31 декабря 2023 года`.
* English: `the 25th of December` / `December 25th` / `December the first` -> `December 25` / `December 1`
  (the US order, which SpeechKit's `en-US` serves); the month keeps the case it was written in.

Only a day from 1 to 31 next to a month name is touched. `may` followed by an ordinal word stays as it is
(`you may first ...` is a verb), `May 1st` still becomes `May 1`.
"""

# Russian month names are Cyrillic on purpose.
# ruff: noqa: RUF001, RUF002

from __future__ import annotations

import re

from asyncstt.text.numerals import ordinal_value
from asyncstt.text.spelling import language_tag

_RUSSIAN_MONTHS = (
    "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
)
_ENGLISH_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
)
_DAY_WORD = r"[^\W\d_]+"
_RUSSIAN_DATE = re.compile(
    rf"(?<![\w-])(?P<day>\d{{1,2}}(?:-[а-яё]{{1,3}})?|{_DAY_WORD})\s+(?P<month>{_RUSSIAN_MONTHS})\b"
    r"(?:(?P<space>\s+)(?P<year>\d{4})-(?:го|м|й)(?P<year_word>\s+год[а-я]*))?",
    re.IGNORECASE,
)
_ENGLISH_DAY = rf"(?P<day>\d{{1,2}}(?:st|nd|rd|th)|{_DAY_WORD})"
_ENGLISH_DAY_FIRST = re.compile(
    rf"\b(?:the\s+)?{_ENGLISH_DAY}\s+of\s+(?P<month>{_ENGLISH_MONTHS})\b", re.IGNORECASE
)
_ENGLISH_MONTH_FIRST = re.compile(
    rf"\b(?P<month>{_ENGLISH_MONTHS})\s+(?:the\s+)?{_ENGLISH_DAY}\b", re.IGNORECASE
)
_LAST_DAY = 31


def format_dates(text: str, language: str) -> str:
    """`text` with the days of months written as digits without endings (Russian and English; see module doc)."""
    tag = language_tag(language)
    if tag == "ru":
        return _RUSSIAN_DATE.sub(_russian_date, text)
    if tag == "en":
        text = _ENGLISH_DAY_FIRST.sub(_english_date, text)
        return _ENGLISH_MONTH_FIRST.sub(_english_month_first, text)
    return text


def _russian_date(match: re.Match[str]) -> str:
    day = _day(match.group("day"), "ru")
    if day is None:
        return match.group(0)
    date = f"{day} {match.group('month')}"
    if match.group("year"):
        date += f"{match.group('space')}{match.group('year')}{match.group('year_word')}"
    return date


def _english_date(match: re.Match[str]) -> str:
    day = _day(match.group("day"), "en")
    return match.group(0) if day is None else f"{match.group('month')} {day}"


def _english_month_first(match: re.Match[str]) -> str:
    if match.group("month").lower() == "may" and not match.group("day")[0].isdigit():
        return match.group(0)
    return _english_date(match)


def _day(written: str, language: str) -> int | None:
    """The day of the month `written` stands for (`25-е`, `25th`, `первого`), None when it is not one."""
    digits = re.match(r"\d+", written)
    value = int(digits.group(0)) if digits else ordinal_value(written, language)
    return value if value is not None and 1 <= value <= _LAST_DAY else None
