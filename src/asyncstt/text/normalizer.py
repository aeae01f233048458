"""Engine output -> domain `Utterance`: spoken words with times, and the text the recognition spec asks for.

Words are always the spoken form (lowercase, no punctuation, numbers spelled out), as SpeechKit's `words[].word`.
The text follows the spec, with SpeechKit's meaning of the flags:

* plain (default): lowercase, no punctuation, numbers in digits, dates as `25 декабря` / `december 25`
  (`text.dates`), and with `phone_formatting` phone numbers as `7(999)123-45-67` (`text.phones`);
* `literature_text`: the engine's punctuated, capitalised text, numbers, dates and phones as in plain;
* `raw_results`: numbers spelled out instead, no dates or phones (with `literature_text`: punctuated, but
  spelled out);
* `profanity_filter`: each profane word keeps its first letter and the rest becomes `*` (`f***`) in the text
  *and* in the words and `raw_text`, so a client that asked for the filter never sees the word anywhere.
"""

from __future__ import annotations

import re
import unicodedata

from asyncstt.engines.base import EngineSegment, EngineWord
from asyncstt.recognition import RecognitionSpec, Utterance, Word
from asyncstt.text.dates import format_dates
from asyncstt.text.numerals import digits_from_words, is_number_word
from asyncstt.text.phones import format_phones
from asyncstt.text.profanity import mask_profanity
from asyncstt.text.spelling import language_tag, spell_numbers

#: A spoken token: letters and digits, with apostrophes and hyphens inside (`don't`, `что-то`).
_TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "`": "'"})
#: Marks that belong to a number and stay in plain text: `3.5`, `3,5`, `10:30`, `12%`, `-5`.
_NUMBER_MARK = re.compile(r"(?<=\d)[.,:](?=\d)|(?<=\d)%|(?<![\w-])-(?=\d)")
#: English writes thousands with commas; plain text writes `1000`.
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


def build_utterance(
    segment: EngineSegment, channel: int, offset: float, spec: RecognitionSpec, language: str
) -> Utterance | None:
    """The utterance for one engine segment, times shifted by `offset` seconds; None when nothing speakable.

    `language` is the one recognition ran in; a language the engine detected (`segment.language`) wins over it
    for spelling and reading numbers.
    """
    spoken_language = segment.language or language
    words: list[Word] = []
    probabilities: list[float] = []
    for engine_word in segment.words:
        spoken = spoken_words(engine_word, spoken_language, offset)
        if spoken:
            words += spoken
            probabilities.append(_unit(engine_word.probability))
    if not words:
        return None
    if spec.profanity_filter:
        words = [_masked(word, spoken_language) for word in words]
    raw_text = " ".join(word.text for word in words)
    text = render_text(segment, spec, spoken_language, raw_text=raw_text)
    if not text:
        return None
    return Utterance(
        channel=channel,
        start=words[0].start,
        end=max(word.end for word in words),
        words=tuple(words),
        raw_text=raw_text,
        text=text,
        confidence=sum(probabilities) / len(probabilities),
        language=segment.language,
        language_probability=segment.language_probability,
    )


def spoken_words(word: EngineWord, language: str, offset: float = 0.0) -> list[Word]:
    """The spoken words of one engine word (`12` -> `twelve`, `1,000` -> `one thousand`), times shifted.

    When one engine word becomes several, its time span is shared out in proportion to their lengths.
    """
    tokens = _spoken_tokens(word.text, language)
    if not tokens:
        return []
    start = word.start + offset
    duration = max(word.end - word.start, 0.0)
    total = sum(len(token) for token in tokens)
    words = []
    done = 0
    for token in tokens:
        begin = start + duration * done / total
        done += len(token)
        words.append(
            Word(
                text=token,
                start=round(begin, 3),
                end=round(start + duration * done / total, 3),
                confidence=_unit(word.probability),
            )
        )
    return words


def render_text(
    segment: EngineSegment, spec: RecognitionSpec, language: str, *, raw_text: str
) -> str:
    """The segment's text as `spec` asks for it; `raw_text` is its spoken form (already masked if asked)."""
    written = " ".join(segment.text.split()) or " ".join(w.text.strip() for w in segment.words)
    if spec.literature_text:
        text = (
            spell_numbers(written, language)
            if spec.raw_results
            else digits_from_words(written, language)
        )
    elif spec.raw_results:
        text = raw_text
    else:
        text = plain_text(written, language)
    if not spec.raw_results:
        text = format_dates(text, language)
        if spec.phone_formatting:
            text = format_phones(text)
    if spec.profanity_filter:
        text = mask_profanity(text, language)
    return " ".join(text.split())


def plain_text(text: str, language: str) -> str:
    """SpeechKit's plain form of `text`: lowercase, no punctuation, numbers in digits (`Twelve orders.` -> `12
    orders`). Digits the engine wrote are kept, with the marks inside a number (`3.5`, `10:30`, `12%`)."""
    text = digits_from_words(text.lower().translate(_APOSTROPHES), language)
    if language_tag(language) == "en":
        text = _THOUSANDS.sub("", text)
    kept = {m.start() for m in _NUMBER_MARK.finditer(text)}
    kept |= {
        m.start() + i for m in _TOKEN.finditer(text) for i, c in enumerate(m.group(0)) if c in "'-"
    }
    chars = [
        " " if unicodedata.category(c).startswith("P") and i not in kept else c
        for i, c in enumerate(text)
    ]
    return " ".join("".join(chars).split())


def _spoken_tokens(text: str, language: str) -> list[str]:
    spelled = spell_numbers(text.translate(_APOSTROPHES), language).lower()
    tokens: list[str] = []
    for token in _TOKEN.findall(spelled):
        pieces = token.split("-")
        # A hyphen between number words is a range or a compound (`ten-twelve`, `twenty-one`): two words.
        if len(pieces) > 1 and all(is_number_word(p, language) for p in pieces):
            tokens += pieces
        else:
            tokens.append(token)
    return tokens


def _masked(word: Word, language: str) -> Word:
    text = mask_profanity(word.text, language)
    return word if text == word.text else Word(text, word.start, word.end, word.confidence)


def _unit(probability: float) -> float:
    return min(max(float(probability), 0.0), 1.0)
