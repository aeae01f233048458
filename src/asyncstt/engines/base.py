"""The engine port: 16 kHz mono float32 samples in, segments with timed words out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from asyncstt.settings import EngineSettings

#: The only sample rate engines are fed.
SAMPLE_RATE = 16000

Samples = npt.NDArray[np.float32]
#: The probability of speech in each 32 ms frame (512 samples) of some samples, frame 0 at their start.
SpeechProbabilities = npt.NDArray[np.float32]


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


class Engine(Protocol):
    """A loaded speech recognition model."""

    @property
    def capabilities(self) -> EngineCapabilities: ...

    def recognise(
        self,
        samples: Samples,
        language: str | None,
        candidates: Sequence[str] = (),
        speech: SpeechProbabilities | None = None,
    ) -> list[EngineSegment]:
        """Recognise `samples`; `language` is a BCP-47 code, None (or `auto`) to detect.

        When detecting, non-empty `candidates` (BCP-47 codes) restrict the choice to them; the segments then
        report the chosen candidate and its probability renormalised among the candidates. `speech`: the
        planner's speech probabilities of the samples' frames, which an engine with a VAD of the same model
        uses instead of running it again; None: the engine judges the samples itself.
        """


class EngineFactory(Protocol):
    """One kind of engine: what it can do and how it is built, from the engine settings."""

    def describe(self, settings: EngineSettings) -> EngineCapabilities:
        """What the engine the settings name can do, without loading it (cheap: the API process asks)."""

    def summary(self, settings: EngineSettings) -> str:
        """The engine the settings name, in words for a log line (`the faster-whisper model from …`)."""

    def build(self, settings: EngineSettings) -> Engine:
        """Load the engine the settings name; slow (weights are read) and done once per process."""
