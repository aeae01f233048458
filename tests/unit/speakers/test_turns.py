"""Segments cut at the pauses the audio shows, whatever the engine's word times say."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from asyncstt.engines.base import EngineSegment, EngineWord
from asyncstt.speakers.turns import pauses, split_at_pauses

RATE = 16000


def talk(*stretches: tuple[float, float], seconds: float = 6.0) -> NDArray[np.float32]:
    """Noise where someone speaks, near silence elsewhere."""
    rng = np.random.default_rng(0)
    samples = 0.001 * rng.standard_normal(round(seconds * RATE))
    for start, end in stretches:
        samples[round(start * RATE) : round(end * RATE)] += 0.2 * rng.standard_normal(
            round(end * RATE) - round(start * RATE)
        )
    return samples.astype(np.float32)


def segment(*words: tuple[str, float, float]) -> EngineSegment:
    return EngineSegment(
        text=" ".join(text for text, _, _ in words) + ".",
        start=words[0][1],
        end=words[-1][2],
        words=tuple(EngineWord(text, start, end, 0.9) for text, start, end in words),
        language="en-US",
        language_probability=0.8,
    )


def test_pauses_are_found_in_the_audio() -> None:
    samples = talk((0.5, 2.0), (2.8, 4.0), (4.2, 5.0))
    found = pauses(samples, 0.5, 5.0)
    assert len(found) == 1
    assert abs(found[0] - 2.4) < 0.05


def test_a_segment_is_cut_at_the_boundary_nearest_each_pause() -> None:
    samples = talk((0.5, 2.0), (2.8, 4.0), (4.2, 5.0))
    # The engine stretched "not" over the pause, as Whisper does.
    whole = segment(("ask", 0.5, 1.2), ("not", 1.2, 2.7), ("he", 2.7, 3.3), ("was", 3.3, 5.0))
    first, second = split_at_pauses(whole, samples)
    assert [w.text for w in first.words] == ["ask", "not"]
    assert [w.text for w in second.words] == ["he", "was"]
    assert (first.text, first.start, first.end) == ("ask not", 0.5, 2.7)
    assert (second.text, second.start, second.end) == ("he was", 2.7, 5.0)
    assert second.language == "en-US"
    assert second.language_probability == 0.8


def test_a_segment_without_pauses_stays_whole() -> None:
    samples = talk((0.5, 5.0))
    whole = segment(("one", 0.5, 2.0), ("two", 2.0, 5.0))
    assert split_at_pauses(whole, samples) == [whole]
    single = segment(("one", 0.5, 5.0))
    assert split_at_pauses(single, talk((0.5, 1.0), (3.0, 5.0))) == [single]
