"""Digits in text spelled out as words, in any language num2words knows (`12` -> `twelve`)."""

# Russian number words are Cyrillic on purpose; ruff would flag every one as a confusable Latin letter.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from num2words import CONVERTER_CLASSES, num2words


def language_tag(language: str) -> str:
    """The ISO 639 part of a BCP-47 code, lowercase (`ru-RU` -> `ru`)."""
    return language.split("-")[0].strip().lower()


# ---------------------------------------------------------------------------------------------------------------
# Digits to words.

#: num2words spells Kazakh as `kz` and Brazilian Portuguese apart from European Portuguese.
_NUM2WORDS_CODES = {"kk": "kz", "pt-br": "pt_BR"}

#: How "%" is said after a number; Russian agrees with the number and is handled apart.
_PERCENT = {
    "en": "percent",
    "de": "Prozent",
    "es": "por ciento",
    "fr": "pour cent",
    "it": "per cento",
    "nl": "procent",
    "pt": "por cento",
    "sv": "procent",
}

#: Ordinal suffixes Russian writes after digits (`21-го`) -> num2words case, gender and number.
_RU_ORDINAL_SUFFIXES: dict[str, tuple[str, str, bool]] = {
    "й": ("n", "m", False),
    "ый": ("n", "m", False),
    "ий": ("n", "m", False),
    "ой": ("n", "m", False),
    "я": ("n", "f", False),
    "ая": ("n", "f", False),
    "е": ("n", "n", False),
    "ое": ("n", "n", False),
    "го": ("g", "m", False),
    "ого": ("g", "m", False),
    "му": ("d", "m", False),
    "ому": ("d", "m", False),
    "м": ("p", "m", False),
    "ом": ("p", "m", False),
    "ю": ("a", "f", False),
    "ую": ("a", "f", False),
    "х": ("p", "m", True),
    "ых": ("p", "m", True),
    "ми": ("i", "m", True),
}

_EN_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
#: Elsewhere a comma is the decimal mark too, and thousands are grouped with (narrow) no-break spaces.
_OTHER_NUMBER = r"\d{1,3}(?:[\u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SUFFIX = r"(?P<suffix>%|(?<=\d)(?:st|nd|rd|th)\b|-[а-яё]{1,3}\b)?"
_EN_PATTERN = re.compile(
    rf"(?P<minus>(?<![\w)])[-−](?=\d))?(?P<dollar>\$)?(?P<number>{_EN_NUMBER}){_SUFFIX}"
)
_OTHER_PATTERN = re.compile(
    rf"(?P<minus>(?<![\w)])[-−](?=\d))?(?P<number>{_OTHER_NUMBER}){_SUFFIX}"
)


def num2words_code(language: str) -> str | None:
    """The num2words language code for a BCP-47 code, or None when num2words cannot spell it."""
    lowered = language.strip().lower()
    code = (
        _NUM2WORDS_CODES.get(lowered)
        or _NUM2WORDS_CODES.get(language_tag(lowered))
        or language_tag(lowered)
    )
    return code if code in CONVERTER_CLASSES else None


def spell_numbers(text: str, language: str) -> str:
    """`text` with every number written in digits spelled out in `language`.

    Thousands separators, decimals, a leading minus, `%`, English `$` and ordinal suffixes (`21st`, `21-й`) are
    understood. The words carry no hyphens or commas (`twenty one`), so they split into spoken words cleanly.
    Languages num2words does not know are returned unchanged.
    """
    code = num2words_code(language)
    if code is None:
        return text
    tag = language_tag(language)
    pattern = _EN_PATTERN if tag == "en" else _OTHER_PATTERN

    def spell(match: re.Match[str]) -> str:
        try:
            spoken = _spell_match(match, code, tag)
        except (ArithmeticError, LookupError, NotImplementedError, TypeError, ValueError):
            # num2words cannot say every number in every language (too large, no ordinals): say the digits.
            spoken = " ".join(
                _words(Decimal(d), code) for d in match.group("number") if d.isdigit()
            )
        return match.group(0) if spoken is None else spoken

    return pattern.sub(spell, text)


def _spell_match(match: re.Match[str], code: str, tag: str) -> str | None:
    written = match.group("number")
    suffix = (match.group("suffix") or "").lower()
    if tag == "en":
        digits = written.replace(",", "")
    else:
        digits = written.replace("\u00a0", "").replace("\u202f", "").replace(",", ".")
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    if match.group("minus"):
        value = -value
    if len(digits) > 1 and digits.startswith("0") and "." not in digits:
        # A leading zero is read digit by digit (`007`): the value alone would lose it.
        words = " ".join(_words(Decimal(d), code) for d in digits)
    elif suffix in ("st", "nd", "rd", "th") and value == value.to_integral_value():
        words = _words(value, code, to="ordinal")
    elif suffix.startswith("-") and tag == "ru" and value == value.to_integral_value():
        # An ending that is not an ordinal's (`5-ти`) only marks the case: the cardinal is said.
        return _spell_russian_ordinal(value, suffix[1:]) or _words(value, code)
    else:
        words = _words(value, code)
    if suffix == "%":
        words = _with_percent(words, value, tag)
    elif suffix.startswith("-"):
        words += suffix
    if match.groupdict().get("dollar"):
        words += " dollar" if value == 1 else " dollars"
    return words


def _spell_russian_ordinal(value: Decimal, ending: str) -> str | None:
    grammar = _RU_ORDINAL_SUFFIXES.get(ending.replace("ё", "е"))
    if grammar is None:
        return None
    case, gender, plural = grammar
    return _clean(
        num2words(int(value), lang="ru", to="ordinal", case=case, gender=gender, plural=plural)
    )


def _words(value: Decimal, code: str, to: str = "cardinal") -> str:
    # Integers go in as int: num2words spells a Decimal like 5 as "five point zero" in some languages.
    number: int | Decimal = int(value) if value == value.to_integral_value() else value
    return _clean(num2words(number, lang=code, to=to))


def _clean(words: str) -> str:
    return " ".join(words.replace(",", " ").replace("-", " ").split())


def _with_percent(words: str, value: Decimal, tag: str) -> str:
    if tag == "ru":
        return f"{words} {_russian_percent(value)}"
    if tag == "tr":
        return f"yüzde {words}"
    said = _PERCENT.get(tag)
    return f"{words} {said}" if said else f"{words}%"


def _russian_percent(value: Decimal) -> str:
    if value != value.to_integral_value():
        return "процента"
    n = abs(int(value))
    if n % 10 == 1 and n % 100 != 11:
        return "процент"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "процента"
    return "процентов"


# ---------------------------------------------------------------------------------------------------------------
