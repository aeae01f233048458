"""Number words read back as digits (en, ru): `twenty one` -> `21`, `двадцать пятое` -> ordinal 25."""

# Russian number words are Cyrillic on purpose; ruff would flag every one as a confusable Latin letter.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from asyncstt.text.spelling import language_tag

# Number words: the vocabularies words are read back with.

#: One line per number: `kind value: cardinal forms | ordinal forms`. Kinds: `unit` (1-9), `teen` (10-19),
#: `ten` (20-90), `hundred` (English x100), `hundreds` (Russian 100-900), `scale` (1000, 10**6, …).
#: A Russian ordinal stem written `перв+` stands for every form with a regular ending (`первый`, `первого`, …).
_ENGLISH_WORDS = """
zero 0: zero
unit 1: one | first
unit 2: two | second
unit 3: three | third
unit 4: four | fourth
unit 5: five | fifth
unit 6: six | sixth
unit 7: seven | seventh
unit 8: eight | eighth
unit 9: nine | ninth
teen 10: ten | tenth
teen 11: eleven | eleventh
teen 12: twelve | twelfth
teen 13: thirteen | thirteenth
teen 14: fourteen | fourteenth
teen 15: fifteen | fifteenth
teen 16: sixteen | sixteenth
teen 17: seventeen | seventeenth
teen 18: eighteen | eighteenth
teen 19: nineteen | nineteenth
ten 20: twenty | twentieth
ten 30: thirty | thirtieth
ten 40: forty | fortieth
ten 50: fifty | fiftieth
ten 60: sixty | sixtieth
ten 70: seventy | seventieth
ten 80: eighty | eightieth
ten 90: ninety | ninetieth
hundred 100: hundred | hundredth
scale 1000: thousand | thousandth
scale 1000000: million | millionth
scale 1000000000: billion | billionth
scale 1000000000000: trillion | trillionth
"""

#: Russian forms in the genders and cases speech uses; ё is written е.
_RUSSIAN_WORDS = """
zero 0: ноль нуль ноля нуля
unit 1: один одна одно одну одного одной одному одним одном одни одних | перв+
unit 2: два две двух двум двумя | втор+
unit 3: три трех трем тремя | третий третья третье третьего третьему третьим третьем третью третьей третьи третьих третьими
unit 4: четыре четырех четырем четырьмя | четверт+
unit 5: пять пяти пятью | пят+
unit 6: шесть шести шестью | шест+
unit 7: семь семи семью | седьм+
unit 8: восемь восьми восемью восьмью | восьм+
unit 9: девять девяти девятью | девят+
teen 10: десять десяти десятью | десят+
teen 11: одиннадцать одиннадцати одиннадцатью | одиннадцат+
teen 12: двенадцать двенадцати двенадцатью | двенадцат+
teen 13: тринадцать тринадцати тринадцатью | тринадцат+
teen 14: четырнадцать четырнадцати четырнадцатью | четырнадцат+
teen 15: пятнадцать пятнадцати пятнадцатью | пятнадцат+
teen 16: шестнадцать шестнадцати шестнадцатью | шестнадцат+
teen 17: семнадцать семнадцати семнадцатью | семнадцат+
teen 18: восемнадцать восемнадцати восемнадцатью | восемнадцат+
teen 19: девятнадцать девятнадцати девятнадцатью | девятнадцат+
ten 20: двадцать двадцати двадцатью | двадцат+
ten 30: тридцать тридцати тридцатью | тридцат+
ten 40: сорок сорока | сороков+
ten 50: пятьдесят пятидесяти пятьюдесятью | пятидесят+
ten 60: шестьдесят шестидесяти шестьюдесятью | шестидесят+
ten 70: семьдесят семидесяти семьюдесятью | семидесят+
ten 80: восемьдесят восьмидесяти восемьюдесятью | восьмидесят+
ten 90: девяносто девяноста | девяност+
hundreds 100: сто ста | сот+
hundreds 200: двести двухсот двумстам двумястами двухстах | двухсот+
hundreds 300: триста трехсот тремстам тремястами трехстах | трехсот+
hundreds 400: четыреста четырехсот четыремстам четырьмястами четырехстах | четырехсот+
hundreds 500: пятьсот пятисот пятистам пятьюстами пятистах | пятисот+
hundreds 600: шестьсот шестисот шестистам шестьюстами шестистах | шестисот+
hundreds 700: семьсот семисот семистам семьюстами семистах | семисот+
hundreds 800: восемьсот восьмисот восьмистам восемьюстами восьмистах | восьмисот+
hundreds 900: девятьсот девятисот девятистам девятьюстами девятистах | девятисот+
scale 1000: тысяча тысячи тысяч тысячу тысячей тысяче тысячам тысячами тысячах | тысячн+
scale 1000000: миллион миллиона миллионов миллиону миллионом миллионе миллионам миллионами миллионах | миллионн+
scale 1000000000: миллиард миллиарда миллиардов миллиарду миллиардом миллиарде миллиардам миллиардами миллиардах
scale 1000000000000: триллион триллиона триллионов триллиону триллионом триллионе триллионам триллионами триллионах
"""

_RUSSIAN_ORDINAL_ENDINGS = [
    "ый",
    "ой",
    "ая",
    "ое",
    "ого",
    "ому",
    "ым",
    "ом",
    "ую",
    "ые",
    "ых",
    "ыми",
]


@dataclass(frozen=True)
class Numeral:
    """What one number word contributes to a number."""

    kind: str
    value: int
    ordinal: bool = False


@dataclass(frozen=True)
class Vocabulary:
    """The number words of one language and how its numbers are written in digits."""

    numerals: dict[str, Numeral]
    decimal_mark: str
    #: A scale word may stand alone (`тысяча` = 1000).
    bare_scales: bool = False
    and_words: frozenset[str] = frozenset()
    point_words: frozenset[str] = frozenset()
    #: Russian `целых`: the word between the whole and the fractional part.
    whole_words: frozenset[str] = frozenset()
    #: Stem of the denominator -> digits after the decimal mark (`десят` -> 1).
    fraction_stems: dict[str, int] = field(default_factory=dict)
    percent_stems: tuple[str, ...] = ()

    def lookup(self, word: str) -> Numeral | None:
        return self.numerals.get(_fold(word))

    def is_lone(self, word: str) -> bool:
        """True for the words of `one`, which stay words when they are a whole number: mostly pronouns."""
        numeral = self.lookup(word)
        return numeral is not None and numeral == Numeral("unit", 1)

    def is_percent(self, word: str) -> bool:
        return bool(self.percent_stems) and _fold(word).startswith(self.percent_stems)

    def fraction_places(self, word: str) -> int | None:
        numeral = self.lookup(word)
        if numeral is None or not numeral.ordinal:
            return None
        return next(
            (n for stem, n in self.fraction_stems.items() if _fold(word).startswith(stem)), None
        )

    def ordinal_suffix(self, value: int, word: str) -> str:
        """What follows the digits of an ordinal: `st` for 21 in English, the case ending in Russian."""
        if self.decimal_mark == ",":
            folded = _fold(word)
            return "-" + (
                folded[-2:]
                if folded.endswith(("ого", "его", "ому", "ему", "ыми", "ими"))
                else folded[-1]
            )
        if 11 <= value % 100 <= 13:
            return "th"
        return {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")


def _fold(word: str) -> str:
    return word.lower().replace("ё", "е")


def _numerals(table: str) -> dict[str, Numeral]:
    numerals: dict[str, Numeral] = {}
    for line in table.strip().splitlines():
        head, _, forms = line.partition(":")
        kind, value = head.split()
        cardinals, _, ordinals = forms.partition("|")
        numerals |= {word: Numeral(kind, int(value)) for word in cardinals.split()}
        for word in ordinals.split():
            stems = (
                [word[:-1] + e for e in _RUSSIAN_ORDINAL_ENDINGS] if word.endswith("+") else [word]
            )
            numerals |= {form: Numeral(kind, int(value), ordinal=True) for form in stems}
    return numerals


_VOCABULARIES = {
    "en": Vocabulary(
        numerals=_numerals(_ENGLISH_WORDS),
        decimal_mark=".",
        and_words=frozenset({"and"}),
        point_words=frozenset({"point"}),
        percent_stems=("percent",),
    ),
    "ru": Vocabulary(
        numerals=_numerals(_RUSSIAN_WORDS),
        decimal_mark=",",
        bare_scales=True,
        whole_words=frozenset({"целых", "целая", "целой"}),
        fraction_stems={"десятитысячн": 4, "десят": 1, "сот": 2, "тысячн": 3},
        percent_stems=("процент",),
    ),
}


# ---------------------------------------------------------------------------------------------------------------
# Words to digits.

_WORD_SPLIT = re.compile(r"([^\W\d_]+)")
_JOINERS = re.compile(r"[ \t\u00a0-]*")
#: After a scale word num2words itself writes a comma (`one thousand, two hundred`).
_JOINERS_AFTER_SCALE = re.compile(r",?[ \t\u00a0-]*")


def is_number_word(word: str, language: str) -> bool:
    """True when `word` is a cardinal or ordinal number word of `language` (en and ru only)."""
    vocabulary = _VOCABULARIES.get(language_tag(language))
    return vocabulary is not None and vocabulary.lookup(word) is not None


def ordinal_value(word: str, language: str) -> int | None:
    """The value of `word` when it is a one-word ordinal of `language` (`first`, `двадцатого`), else None."""
    vocabulary = _VOCABULARIES.get(language_tag(language))
    numeral = vocabulary.lookup(word) if vocabulary is not None else None
    return numeral.value if numeral is not None and numeral.ordinal else None


def digits_from_words(text: str, language: str) -> str:
    """`text` with numbers written in words replaced by digits (en and ru; other languages unchanged).

    `twenty one` -> `21`, `двадцать одна тысяча` -> `21000`, `three point five` -> `3.5`, `три целых пять
    десятых` -> `3,5`, `twelve percent` -> `12%`, `twenty first` -> `21st`, `двадцать первого` -> `21-го`.
    A lone `one` / `один` and a lone ordinal (`first`) stay words: they are rarely numbers. Case and everything
    that is not a number are kept as they are.
    """
    vocabulary = _VOCABULARIES.get(language_tag(language))
    if vocabulary is None:
        return text
    parts = _WORD_SPLIT.split(text)
    # parts alternates separator, word, separator, …, separator: words sit at odd indexes.
    out: list[str] = [parts[0]]
    i = 1
    while i < len(parts):
        after_digit = out[-1].rstrip()[-1:].isdigit()
        parsed = _parse_number(parts, i, vocabulary, after_digit=after_digit)
        if parsed is None:
            out += [parts[i], parts[i + 1]]
            i += 2
        else:
            digits, end = parsed
            out += [digits, parts[end - 1]]
            i = end
    return "".join(out)


@dataclass(frozen=True)
class _State:
    """A number being read word by word."""

    total: int = 0
    #: The part below the last scale word (`two hundred five` in `one thousand two hundred five`).
    group: int = 0
    last: str | None = None
    last_scale: int = 0
    words: int = 0

    @property
    def value(self) -> int:
        return self.total + self.group


def _step(
    state: _State, numeral: Numeral, vocabulary: Vocabulary, *, after_digit: bool
) -> _State | None:
    """`state` after reading `numeral`, or None when the numeral cannot continue this number."""
    kind, value, last = numeral.kind, numeral.value, state.last
    if kind == "zero":
        return _State(last="zero", words=1) if state.words == 0 else None
    if last == "zero":
        return None
    grown = replace(state, last=kind, words=state.words + 1)
    if kind == "unit" and last in (None, "hundreds", "ten", "scale"):
        return replace(grown, group=state.group + value)
    if kind in ("teen", "ten", "hundreds") and last in (None, "hundreds", "scale"):
        if kind == "hundreds" and last == "hundreds":
            return None
        return replace(grown, group=state.group + value)
    if kind == "hundred" and last in ("unit", "teen") and state.group < 20:
        return replace(grown, group=state.group * 100, last="hundreds")
    if kind == "scale" and (state.last_scale == 0 or value < state.last_scale):
        bare = (
            vocabulary.bare_scales
            and last in (None, "scale")
            and not (last is None and after_digit)
        )
        if state.group > 0 or bare:
            return replace(
                grown, total=state.total + max(state.group, 1) * value, group=0, last_scale=value
            )
    return None


def _parse_number(
    parts: list[str],
    start: int,
    vocabulary: Vocabulary,
    *,
    after_digit: bool,
    whole_only: bool = False,
) -> tuple[str, int] | None:
    """Read the number whose first word is `parts[start]`: its digits and the index of the first word after it.

    `whole_only` reads a plain cardinal (the numerator of a Russian decimal): no ordinal, fraction or percent,
    and a lone `одна` counts.
    """
    state = _State()
    ordinal: str | None = None
    i = start
    while i < len(parts) and (i == start or _joined(parts[i - 1], state.last)):
        following = _after_and(parts, i, state, vocabulary)
        if following is not None:
            i = following
        numeral = vocabulary.lookup(parts[i])
        if numeral is None or (numeral.ordinal and (state.words == 0 or whole_only)):
            break
        stepped = _step(state, numeral, vocabulary, after_digit=after_digit)
        if stepped is None:
            break
        state, i = stepped, i + 2
        if numeral.ordinal:
            ordinal = parts[i - 2]
            break
    if state.words == 0:
        return None
    if whole_only:
        return str(state.value), i
    if ordinal is not None:
        return f"{state.value}{vocabulary.ordinal_suffix(state.value, ordinal)}", i
    digits, i = _fraction(parts, i, state.value, vocabulary)
    if i < len(parts) and _joined(parts[i - 1], None) and vocabulary.is_percent(parts[i]):
        return f"{digits}%", i + 2
    if state.words == 1 and vocabulary.is_lone(parts[start]) and digits.isdigit():
        return None
    return digits, i


def _after_and(parts: list[str], i: int, state: _State, vocabulary: Vocabulary) -> int | None:
    """Index of the word after `and` when `parts[i]` is an `and` inside a number (`one hundred and five`)."""
    if parts[i].lower() not in vocabulary.and_words or state.last not in ("hundreds", "scale"):
        return None
    if i + 2 >= len(parts) or not _joined(parts[i + 1], None):
        return None
    numeral = vocabulary.lookup(parts[i + 2])
    if numeral is None or _step(state, numeral, vocabulary, after_digit=False) is None:
        return None
    return i + 2


def _fraction(parts: list[str], i: int, whole: int, vocabulary: Vocabulary) -> tuple[str, int]:
    """The number with its decimal part when one follows (`point five`, `целых пять десятых`)."""
    if i >= len(parts) or not _joined(parts[i - 1], None):
        return str(whole), i
    word = _fold(parts[i])
    if word in vocabulary.point_words:
        digits = []
        j = i + 2
        while j < len(parts) and _joined(parts[j - 1], None):
            numeral = vocabulary.lookup(parts[j])
            if numeral is None or numeral.kind not in ("zero", "unit") or numeral.ordinal:
                break
            digits.append(str(numeral.value))
            j += 2
        if digits:
            return f"{whole}{vocabulary.decimal_mark}{''.join(digits)}", j
    elif word in vocabulary.whole_words and i + 2 < len(parts) and _joined(parts[i + 1], None):
        parsed = _parse_number(parts, i + 2, vocabulary, after_digit=False, whole_only=True)
        if parsed is not None:
            numerator, j = parsed
            places = vocabulary.fraction_places(parts[j]) if j < len(parts) else None
            if places is not None and len(numerator) <= places and _joined(parts[j - 1], None):
                return f"{whole}{vocabulary.decimal_mark}{numerator.zfill(places)}", j + 2
    return str(whole), i


def _joined(separator: str, last: str | None) -> bool:
    """True when `separator` may sit between two words of one number."""
    pattern = _JOINERS_AFTER_SCALE if last == "scale" else _JOINERS
    return pattern.fullmatch(separator) is not None
