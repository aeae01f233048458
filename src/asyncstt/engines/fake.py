"""A deterministic engine for tests and demos: no model, words placed where the samples are loud."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

import numpy as np

from asyncstt.engines.base import (
    SAMPLE_RATE,
    EngineCapabilities,
    EngineSegment,
    EngineWord,
    Samples,
    SpeechProbabilities,
)
from asyncstt.engines.detection import choose_language
from asyncstt.engines.language_check import detection_candidates, recognition_language
from asyncstt.errors import InvalidArgument
from asyncstt.languages import SPEECHKIT_LANGUAGES

#: What a scripted fake answers for given samples and requested language (None: detect).
Script = Callable[[Samples, str | None], Sequence[EngineSegment]]

#: Length of the frames loudness is measured on, in seconds.
FRAME_SECONDS = 0.01
#: What the fake that settings name (see `configured`) says, one word per loud region, cycling.
WORDS = ("alpha", "bravo", "charlie", "delta", "echo")
#: What its detection "measures" when it chooses among candidates; the language it hears without candidates
#: is the most probable one.
HEARD: Mapping[str, float] = MappingProxyType({"en-US": 0.6, "ru-RU": 0.3, "de-DE": 0.1})


def every_language(*, name: str = "fake") -> EngineCapabilities:
    """Capabilities of an engine that serves every SpeechKit language and detects the language."""
    return EngineCapabilities(
        name=name, languages=frozenset(SPEECHKIT_LANGUAGES), detects_language=True
    )


def configured() -> FakeEngine:
    """The fake that `EngineSettings(kind="fake")` names: `from_energy` saying `WORDS`, detection following
    `HEARD`, every language served. Like every fake it answers from the samples alone, so the same audio gives
    the same words in any process."""
    return FakeEngine.from_energy(
        WORDS, heard=HEARD, detected_language=max(HEARD, key=lambda code: HEARD[code])
    )


class FakeEngine:
    """An `Engine` that answers from a script: fixed segments, or a function of the samples and language.

    Requests are checked against the capabilities like the real engine does (an unserved language or candidate
    is an `InvalidArgument`), and every call is recorded in `calls` as (number of samples, language asked for).
    Detection among candidates chooses with `heard` (BCP-47 code -> probability, what detection "measures")
    exactly as the real engine does, records the candidates in `detections`, asks the script in the chosen
    language and stamps every segment with it.
    """

    def __init__(
        self,
        script: Sequence[EngineSegment] | Script,
        capabilities: EngineCapabilities | None = None,
        *,
        heard: Mapping[str, float] | None = None,
    ) -> None:
        self._script = script
        self._capabilities = capabilities or every_language()
        self._heard = dict(heard or {})
        self.calls: list[tuple[int, str | None]] = []
        self.detections: list[tuple[str, ...]] = []

    @property
    def capabilities(self) -> EngineCapabilities:
        return self._capabilities

    def recognise(
        self,
        samples: Samples,
        language: str | None,
        candidates: Sequence[str] = (),
        speech: SpeechProbabilities | None = None,
    ) -> list[EngineSegment]:
        """The script's segments; `speech` is not read: this engine has no VAD (files are planned for it
        without one, so it is always None)."""
        code = recognition_language(self._capabilities, language)
        allowed = detection_candidates(self._capabilities, language, candidates)
        self.calls.append((len(samples), language))
        chosen = None
        if allowed and code is None:
            self.detections.append(allowed)
            chosen = choose_language(self._heard, allowed)
            code = chosen[0]
        segments = list(self._script(samples, code) if callable(self._script) else self._script)
        if chosen is None:
            return segments
        heard, probability = chosen
        return [
            replace(segment, language=heard, language_probability=probability)
            for segment in segments
        ]

    @classmethod
    def from_energy(
        cls,
        words: Sequence[str],
        *,
        words_per_region: int = 1,
        threshold: float = 0.01,
        min_silence: float = 0.2,
        probability: float = 0.9,
        detected_language: str = "en-US",
        capabilities: EngineCapabilities | None = None,
        heard: Mapping[str, float] | None = None,
    ) -> FakeEngine:
        """A fake that hears one segment per loud region of the samples it is given.

        A region is a run of 10 ms frames whose RMS is at least `threshold`, with gaps shorter than
        `min_silence` bridged. Region k of a call (counted from 0 in *that* call's samples) says the next
        `words_per_region` words of `words`, cycling, spread evenly over the region. The answer depends only on
        the samples, so times reveal slicing and offset mistakes, and a re-run gives the same words. When asked
        to detect without candidates, segments report `detected_language` with probability 1; with candidates,
        the choice among them follows `heard`.
        """
        if not words or words_per_region < 1:
            raise InvalidArgument("from_energy needs at least one word and one word per region")

        def script(samples: Samples, language: str | None) -> list[EngineSegment]:
            segments = []
            for index, (start, end) in enumerate(loud_regions(samples, threshold, min_silence)):
                first = index * words_per_region
                said = [words[(first + k) % len(words)] for k in range(words_per_region)]
                step = (end - start) / len(said)
                segments.append(
                    EngineSegment(
                        text=" ".join(said),
                        start=start,
                        end=end,
                        words=tuple(
                            EngineWord(word, start + k * step, start + (k + 1) * step, probability)
                            for k, word in enumerate(said)
                        ),
                        language=detected_language if language is None else None,
                        language_probability=1.0 if language is None else 0.0,
                    )
                )
            return segments

        return cls(script, capabilities, heard=heard)


def loud_regions(
    samples: Samples, threshold: float, min_silence: float
) -> list[tuple[float, float]]:
    """(start, end) seconds of the runs of 10 ms frames with RMS >= `threshold`, gaps < `min_silence` bridged."""
    frame = round(FRAME_SECONDS * SAMPLE_RATE)
    count = len(samples) // frame
    if count == 0:
        return []
    frames = np.asarray(samples[: count * frame], dtype=np.float64).reshape(count, frame)
    loud = np.sqrt(np.mean(frames**2, axis=1)) >= threshold
    edges = np.flatnonzero(np.diff(np.concatenate(([0], loud.astype(np.int8), [0]))))
    regions: list[tuple[int, int]] = []
    for start, end in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
        if regions and (start - regions[-1][1]) * FRAME_SECONDS < min_silence:
            regions[-1] = (regions[-1][0], end)
        else:
            regions.append((start, end))
    return [(round(a * FRAME_SECONDS, 3), round(b * FRAME_SECONDS, 3)) for a, b in regions]
