"""What a subtitle shows of one utterance, token by token, each timed by the words it stands for.

The shown text is the utterance's `text`, as the request asked for it (digits, literature style, masked
profanity); its words are the timing. Text and words are aligned on their letters and digits: a token that stands
for one word (`Good,` for `good`, `12` for `twelve`) takes its times, a run that replaces several words (`21` for `twenty one`) shares
their span out in proportion to its tokens' lengths, and words the text leaves out are not shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from asyncstt.recognition import Utterance, Word


@dataclass(frozen=True)
class TimedToken:
    """One whitespace-free piece of shown text and when it is spoken, in seconds."""

    text: str
    start: float
    end: float


def timed_tokens(utterance: Utterance) -> list[TimedToken]:
    """The utterance's shown tokens in order; none when it has no timed words."""
    words = [word for word in utterance.words if word.text.strip()]
    if not words:
        return []
    shown = utterance.text.split()
    if not shown:
        return [TimedToken(word.text.strip(), word.start, word.end) for word in words]
    matcher = SequenceMatcher(
        a=[_key(word.text) for word in words], b=[_key(token) for token in shown], autojunk=False
    )
    tokens: list[TimedToken] = []
    for _, first_word, end_word, first_token, end_token in matcher.get_opcodes():
        texts = shown[first_token:end_token]
        if end_word - first_word == len(texts):
            pairs = zip(texts, words[first_word:end_word], strict=True)
            tokens += [TimedToken(text, word.start, word.end) for text, word in pairs]
        elif texts:
            tokens += _spread(texts, *_span(words, first_word, end_word))
    return tokens


def _span(words: list[Word], first: int, end: int) -> tuple[float, float]:
    """The time of words[first:end]; text with no word of its own sits where the previous word ends."""
    if first < end:
        return words[first].start, max(words[first].start, words[end - 1].end)
    moment = words[first - 1].end if first else words[0].start
    return moment, moment


def _spread(texts: list[str], start: float, end: float) -> list[TimedToken]:
    total = sum(len(text) for text in texts)
    tokens = []
    done = 0
    for text in texts:
        begin = start + (end - start) * done / total
        done += len(text)
        tokens.append(TimedToken(text, begin, start + (end - start) * done / total))
    return tokens


def _key(text: str) -> str:
    return "".join(char for char in text.lower() if char.isalnum())
