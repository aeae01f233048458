# ruff: noqa: RUF001
from __future__ import annotations

import random

import pytest

from asyncstt.text.numerals import digits_from_words, is_number_word
from asyncstt.text.spelling import num2words_code, spell_numbers


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("12 orders", "twelve orders"),
        ("1,000 people", "one thousand people"),
        ("1000", "one thousand"),
        ("3.5 kg", "three point five kg"),
        ("0.05", "zero point zero five"),
        ("12%", "twelve percent"),
        ("the 21st century", "the twenty first century"),
        ("2nd and 3rd", "second and third"),
        ("-5 degrees", "minus five degrees"),
        ("pages 10-12", "pages ten-twelve"),
        ("$5 and $1", "five dollars and one dollar"),
        ("agent 007", "agent zero zero seven"),
        ("in 1999.", "in one thousand nine hundred and ninety nine."),
        ("It's 5, isn't it?", "It's five, isn't it?"),
        ("no numbers here", "no numbers here"),
    ],
)
def test_spell_numbers_english(text: str, spoken: str) -> None:
    assert spell_numbers(text, "en-US") == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("12 заказов", "двенадцать заказов"),
        ("3,5 кг", "три целых пять десятых кг"),
        ("3.5 кг", "три целых пять десятых кг"),
        ("1\u00a0000\u00a0000", "один миллион"),
        ("1%", "один процент"),
        ("21%", "двадцать один процент"),
        ("3%", "три процента"),
        ("12%", "двенадцать процентов"),
        ("2,5%", "две целых пять десятых процента"),
        ("21-го мая", "двадцать первого мая"),
        ("1-й", "первый"),
        ("в 1990-х", "в тысяча девятьсот девяностых"),
        ("-3", "минус три"),
        ("5-ти", "пять"),
    ],
)
def test_spell_numbers_russian(text: str, spoken: str) -> None:
    assert spell_numbers(text, "ru-RU") == spoken


@pytest.mark.parametrize(
    ("text", "language", "spoken"),
    [
        ("12 Uhr", "de-DE", "zwölf Uhr"),
        ("21", "fr-FR", "vingt et un"),
        ("5", "kk-KZ", "бес"),
        ("3", "pt-BR", "três"),
        ("50%", "tr-TR", "yüzde elli"),
        ("12 dona", "uz-UZ", "12 dona"),
    ],
)
def test_spell_numbers_other_languages(text: str, language: str, spoken: str) -> None:
    assert spell_numbers(text, language) == spoken


def test_numbers_num2words_cannot_say_are_read_digit_by_digit() -> None:
    assert spell_numbers("10" + "0" * 21, "tr-TR") == "bir sıfır" + " sıfır" * 21


def test_num2words_codes() -> None:
    assert num2words_code("ru-RU") == "ru"
    assert num2words_code("pt-BR") == "pt_BR"
    assert num2words_code("kk-KZ") == "kz"
    assert num2words_code("uz-UZ") is None


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("twenty one", "21"),
        ("twelve orders", "12 orders"),
        ("Twelve orders.", "12 orders."),
        ("Twenty-one guns", "21 guns"),
        ("one thousand", "1000"),
        ("one thousand two hundred", "1200"),
        ("one thousand, nine hundred and ninety nine", "1999"),
        ("one hundred and five days", "105 days"),
        ("two thousand and twenty four", "2024"),
        ("fifteen hundred", "1500"),
        ("one hundred twenty three thousand four hundred fifty six", "123456"),
        ("nine million", "9000000"),
        ("three point one four", "3.14"),
        ("twelve percent", "12%"),
        ("the twenty first century", "the 21st century"),
        ("zero", "0"),
        # Not numbers, or not one number:
        ("one of them", "one of them"),
        ("the first time", "the first time"),
        ("and so my fellow Americans", "and so my fellow Americans"),
        ("nineteen ninety nine", "19 99"),
        ("5 thousand", "5 thousand"),
        ("one hundred and", "100 and"),
        ("at one point", "at one point"),
    ],
)
def test_digits_from_words_english(text: str, written: str) -> None:
    assert digits_from_words(text, "en-US") == written


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("двадцать один", "21"),
        ("двадцать одна тысяча", "21000"),
        ("одна тысяча", "1000"),
        ("тысяча двести", "1200"),
        ("тысяча", "1000"),
        ("две тысячи двадцать четыре", "2024"),
        ("пять тысяч", "5000"),
        ("миллион двести тысяч", "1200000"),
        ("двенадцать заказов", "12 заказов"),
        ("Двенадцать заказов", "12 заказов"),
        ("около двухсот пятидесяти метров", "около 250 метров"),
        ("с тремя миллионами", "с 3000000"),
        ("сорок два", "42"),
        ("три целых пять десятых", "3,5"),
        ("три целых одна десятая", "3,1"),
        ("ноль целых пять сотых", "0,05"),
        ("двадцать пять процентов", "25%"),
        ("двадцать первого мая", "21-го мая"),
        ("двадцать третьего", "23-го"),
        ("две тысячи двадцать четвёртого года", "2024-го года"),
        ("в тысяча девятьсот девяностых", "в 1990-х"),
        # Not numbers, or not one number:
        ("один из нас", "один из нас"),
        ("одну минуту", "одну минуту"),
        ("первого мая", "первого мая"),
        ("5 тысяч", "5 тысяч"),
        ("пять десятых", "5 десятых"),
        ("ёлки", "ёлки"),
    ],
)
def test_digits_from_words_russian(text: str, written: str) -> None:
    assert digits_from_words(text, "ru-RU") == written


def test_digits_from_words_leaves_other_languages_alone() -> None:
    assert digits_from_words("zwölf Uhr", "de-DE") == "zwölf Uhr"


@pytest.mark.parametrize("language", ["en-US", "ru-RU"])
def test_spelled_numbers_read_back(language: str) -> None:
    rng = random.Random(7)
    numbers = [n for n in range(1100) if n != 1] + [rng.randrange(1100, 10**13) for _ in range(200)]
    for number in numbers:
        spoken = spell_numbers(str(number), language)
        assert digits_from_words(spoken, language) == str(number), spoken


def test_number_words() -> None:
    assert is_number_word("twenty", "en-US")
    assert is_number_word("Двадцать", "ru-RU")
    assert is_number_word("четвёртого", "ru-RU")
    assert not is_number_word("orders", "en-US")
    assert not is_number_word("zwölf", "de-DE")
