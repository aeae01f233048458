"""Profanity masking from per-language word lists (`wordlists/<language>.txt`)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from asyncstt.text.spelling import language_tag

_WORD = re.compile(r"[^\W\d_]+")
#: English profanity turns up in every language, so its list applies to all of them.
_EVERYWHERE = "en"


@dataclass(frozen=True)
class WordList:
    """The profanities of one language: whole words, word starts (Russian stems) and word parts."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()

    def matches(self, word: str) -> bool:
        folded = _fold(word)
        return (
            folded in self.exact
            or folded.startswith(self.prefixes)
            or any(part in folded for part in self.parts)
        )

    @classmethod
    def parse(cls, text: str) -> WordList:
        """A list in the file format: one entry a line, `word`, `stem*` or `*part*`; `#` starts a comment."""
        exact: set[str] = set()
        prefixes: list[str] = []
        parts: list[str] = []
        for line in text.splitlines():
            entry = _fold(line.split("#", 1)[0].strip())
            if entry.startswith("*") and entry.endswith("*") and len(entry) > 2:
                parts.append(entry[1:-1])
            elif entry.endswith("*") and len(entry) > 1:
                prefixes.append(entry[:-1])
            elif entry:
                exact.add(entry)
        return cls(frozenset(exact), tuple(prefixes), tuple(parts))


@functools.cache
def word_list(language: str) -> WordList:
    """The word list shipped for `language` (a BCP-47 or ISO 639 code); empty when none is shipped.

    Cached: the lists are read-only package data, read once per process.
    """
    resource = resources.files("asyncstt.text").joinpath(
        "wordlists", f"{language_tag(language)}.txt"
    )
    if not resource.is_file():
        return WordList()
    return WordList.parse(resource.read_text(encoding="utf-8"))


def is_profane(word: str, language: str) -> bool:
    """True when `word` is on the list of `language` or on the English one."""
    return word_list(language).matches(word) or word_list(_EVERYWHERE).matches(word)


def mask_word(word: str) -> str:
    """`word` with every letter after the first replaced by `*` (`fuck` -> `f***`)."""
    return word[:1] + "*" * (len(word) - 1)


def is_masked(word: str) -> bool:
    """True when `word` is what `mask_word` makes of a profanity: a letter, then only `*`."""
    return len(word) > 1 and word[:1].isalpha() and word[1:] == "*" * (len(word) - 1)


def mask_profanity(text: str, language: str) -> str:
    """`text` with each profane word masked by `mask_word`; everything else is kept as it is."""
    return _WORD.sub(
        lambda m: mask_word(m.group(0)) if is_profane(m.group(0), language) else m.group(0), text
    )


def _fold(word: str) -> str:
    # ё is optional in Russian writing, so the lists and the words are compared without it.
    return word.lower().replace("ё", "е")  # noqa: RUF001
