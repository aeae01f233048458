"""Word error counting for accuracy assertions."""

from __future__ import annotations

import re
from pathlib import Path

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
JFK_REFERENCE = (
    "and so my fellow americans ask not what your country can do for you "
    "ask what you can do for your country"
)


def words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def word_errors(hypothesis: str, reference: str) -> int:
    """Levenshtein distance between the word sequences (substitutions, insertions, deletions)."""
    hyp, ref = words(hypothesis), words(reference)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i]
        for j, hyp_word in enumerate(hyp, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
            )
        previous = current
    return previous[-1]


def librivox_reference(name: str) -> str:
    """The transcription of one LibriVox utterance of the pocketsphinx test data."""
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        if line.endswith(f"({name})"):
            return line.split("<s>")[1].split("</s>")[0].strip()
    raise KeyError(name)
