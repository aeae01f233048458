"""Engine segments cut where the talk pauses, so that a turn change inside one segment can be labelled.

Whisper often keeps two speakers' sentences in one segment when the pause between them is short, and its word
times stretch over the pause. With speaker labeling, a segment is cut at every pause the audio itself shows
(at least `PAUSE_SECONDS` 20 dB under the segment's speech); each part becomes its own utterance and gets its
own speaker. A change of speaker without any pause stays inside one utterance.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from asyncstt.engines.base import EngineSegment
from asyncstt.speakers.mel import HOP, SAMPLE_RATE

#: A silence at least this long between two words may be a turn change.
PAUSE_SECONDS = 0.3
#: Silence: 10 ms frames 20 dB under the segment's loud speech (its 90th percentile frame).
_QUIET = 0.1
_LOUD_PERCENTILE = 90


def pauses(samples: NDArray[np.float32], start: float, end: float) -> list[float]:
    """Middles (seconds into `samples`) of the pauses in [start, end)."""
    first, last = round(start * SAMPLE_RATE), min(len(samples), round(end * SAMPLE_RATE))
    count = (last - first) // HOP
    if count <= 0:
        return []
    frames = samples[first : first + count * HOP].reshape(count, HOP).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    quiet = rms < _QUIET * np.percentile(rms, _LOUD_PERCENTILE)
    shortest = round(PAUSE_SECONDS * SAMPLE_RATE / HOP)
    middles = []
    run = 0
    for index, silent in enumerate([*quiet.tolist(), False]):
        if silent:
            run += 1
            continue
        if run >= shortest:
            middles.append((first + (index - run / 2) * HOP) / SAMPLE_RATE)
        run = 0
    return middles


def split_at_pauses(segment: EngineSegment, samples: NDArray[np.float32]) -> list[EngineSegment]:
    """The segment cut at the word boundary nearest each of its pauses, each part a segment of its own
    (its text from its words); times are relative to `samples`, as the engine gave them."""
    words = segment.words
    if len(words) < 2:
        return [segment]
    boundaries = np.array([word.start for word in words[1:]])
    cuts = sorted(
        {
            1 + int(np.argmin(np.abs(boundaries - middle)))
            for middle in pauses(samples, words[0].start, words[-1].end)
        }
    )
    if not cuts:
        return [segment]
    bounds = [0, *cuts, len(words)]
    return [
        EngineSegment(
            text=" ".join(word.text for word in words[first:last]),
            start=words[first].start,
            end=words[last - 1].end,
            words=words[first:last],
            language=segment.language,
            language_probability=segment.language_probability,
        )
        for first, last in itertools.pairwise(bounds)
    ]
