"""The profanity classifier: which words of an utterance are on the profanity lists the text normaliser uses."""

from __future__ import annotations

from dataclasses import dataclass

from asyncstt.recognition import Utterance, Word
from asyncstt.text.profanity import is_masked, is_profane

#: The name a request gives the classifier, and the label it reports.
PROFANITY = "profanity"


@dataclass(frozen=True)
class Verdict:
    """The profane words of one utterance, and how sure recognition was of the surest of them."""

    words: tuple[Word, ...]
    #: The highest recognition confidence among `words`: the lists decide for certain once a word was heard,
    #: so what remains uncertain is whether it was said. 0 when no word is profane.
    confidence: float


def profanity(utterance: Utterance, language: str) -> Verdict:
    """The verdict on `utterance`, read with the lists of `language` and English.

    A word that the profanity filter has already masked (`f***`) is profane too.
    """
    found = tuple(
        word for word in utterance.words if is_masked(word.text) or is_profane(word.text, language)
    )
    return Verdict(found, max((word.confidence for word in found), default=0.0))
