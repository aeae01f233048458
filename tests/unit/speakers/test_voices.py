"""Voice windows: where they lie in a slice, and how a checkpoint keeps them."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

from asyncstt.pipeline.plan import SliceSpec
from asyncstt.pipeline.task import SliceResult
from asyncstt.recognition import Utterance
from asyncstt.speakers.encoder import SpeakerEncoder
from asyncstt.speakers.voices import Voices, VoiceWindow, hear_voices, spans
from tests.factories import make_utterance


def said(start: float, end: float) -> Utterance:
    return make_utterance(0, [("word", start, end)], "word")


def test_a_long_utterance_is_heard_by_overlapping_windows_to_its_end() -> None:
    utterance = said(12.0, 16.0)
    found = spans([utterance], offset=10.0, length=30.0)
    assert found[0] == (2.0, 3.6)
    assert found[-1][1] == 6.0
    assert all(abs((end - start) - 1.6) < 1e-9 for start, end in found)
    starts = [start for start, _ in found]
    assert max(b - a for a, b in itertools.pairwise(starts)) <= 0.8 + 1e-9


def test_a_short_utterance_is_heard_with_the_audio_around_it() -> None:
    utterance = said(5.0, 5.2)
    assert spans([utterance], offset=0.0, length=10.0) == [pytest.approx((4.7, 5.5))]
    assert spans([utterance], offset=4.9, length=0.35) == [pytest.approx((0.0, 0.35))]


def test_windows_carry_file_times_and_float16_embeddings() -> None:
    rng = np.random.default_rng(0)
    samples = (0.1 * rng.standard_normal(16000 * 3)).astype(np.float32)
    parts = (said(10.5, 11.5), said(11.5, 12.5))
    voices = hear_voices(samples, 10.0, [parts, (said(12.6, 12.8),)], SpeakerEncoder())
    assert voices.parts == ((0, parts),)
    assert [(w.start, w.end) for w in voices.windows] == [
        (10.5, 11.5),
        (11.5, 12.5),
        (12.3, 13.0),
    ]
    for window in voices.windows:
        assert len(window.embedding) == 256
        assert np.array(window.embedding, np.float16).astype(float).tolist() == list(
            window.embedding
        )


def test_a_checkpoint_keeps_the_voices_exactly() -> None:
    embedding = np.linspace(0, 0.125, 256).astype(np.float16).astype(float).tolist()
    window = VoiceWindow(1.0, 2.6, tuple(embedding))
    whole = make_utterance(0, [("one", 1.0, 2.0), ("two", 2.0, 3.0)], "1 2")
    parts = (said(1.0, 2.0), said(2.0, 3.0))
    voices = Voices((window,), ((0, parts),))
    result = SliceResult(SliceSpec(0, 0, 0.0, None), (whole,), 3.0, voices)
    assert SliceResult.from_bytes(result.to_bytes()) == result


def test_a_checkpoint_without_windows_reads_as_before() -> None:
    result = SliceResult(SliceSpec(0, 0, 0.0, None), (), 3.0)
    assert SliceResult.from_bytes(result.to_bytes()).voices is None
    assert b"voices" not in zlib.decompress(result.to_bytes())
