"""The engine port: 16 kHz mono float32 samples in, segments with timed words out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

#: The only sample rate engines are fed.
SAMPLE_RATE = 16000

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class EngineWord:
    """A word as the engine wrote it (may carry punctuation and digits), times relative to the samples."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class EngineSegment:
    """One stretch of speech the engine recognised, times in seconds relative to the samples given."""

    text: str
    start: float
    end: float
    words: tuple[EngineWord, ...]
    #: BCP-47 code of the language heard (e.g. `en-US`) and its probability, when detection ran.
    language: str | None = None
    language_probability: float = 0.0


@dataclass(frozen=True)
class EngineCapabilities:
    """What an installed engine can do."""

    name: str
    #: BCP-47 codes (SpeechKit spelling, e.g. `en-US`, `ru-RU`) the model serves.
    languages: frozenset[str]
    #: True when the model can tell which language it hears (`auto`).
    detects_language: bool
    #: True when the engine's text carries punctuation and capitals.
    punctuates: bool = True


class Engine(Protocol):
    """A loaded speech recognition model."""

    @property
    def capabilities(self) -> EngineCapabilities: ...

    def recognise(
        self, samples: Samples, language: str | None, candidates: Sequence[str] = ()
    ) -> list[EngineSegment]:
        """Recognise `samples`; `language` is a BCP-47 code, None (or `auto`) to detect.

        When detecting, non-empty `candidates` (BCP-47 codes) restrict the choice to them; the segments then
        report the chosen candidate and its probability renormalised among the candidates.
        """
