"""The batched decoder's windows: stretches of speech packed into 30 s windows with their pauses shortened, laid
out in silence, times mapped back to the slice."""

from __future__ import annotations

import numpy as np
import pytest

from asyncstt.engines.base import SAMPLE_RATE
from asyncstt.engines.speech_windows import (
    PAUSE_SECONDS,
    Piece,
    Window,
    every_window,
    group,
    lay_out,
    slice_time,
    slot_of,
    slots,
    unheard,
)

S = SAMPLE_RATE
P = round(PAUSE_SECONDS * S)


def whole(start: int, end: int) -> Window:
    return Window((Piece(start, end, 0),))


def test_stretches_share_a_window_while_their_speech_and_shortened_pauses_fit_30_s() -> None:
    speech = [(1 * S, 5 * S), (8 * S, 20 * S), (25 * S, 31 * S), (33 * S, 40 * S), (41 * S, 42 * S)]
    assert group(speech) == [
        Window(
            (
                Piece(1 * S, 5 * S, 0),
                Piece(8 * S, 20 * S, 4 * S + P),
                Piece(25 * S, 31 * S, 16 * S + 2 * P),
            )
        ),
        # 22 s + 3 pauses + 7 s would pass 30 s; a pause shorter than the longest kept stays whole.
        Window((Piece(33 * S, 40 * S, 0), Piece(41 * S, 42 * S, 7 * S + min(S, P)))),
    ]


def test_a_stretch_longer_than_a_window_is_cut_into_windows() -> None:
    assert group([(2 * S, 70 * S)]) == [
        whole(2 * S, 32 * S),
        whole(32 * S, 62 * S),
        whole(62 * S, 70 * S),
    ]
    assert every_window(65 * S) == [whole(0, 30 * S), whole(30 * S, 60 * S), whole(60 * S, 65 * S)]
    assert group([]) == every_window(0) == []


def test_each_window_starts_its_own_30_s_its_pauses_shortened_and_the_rest_is_silence() -> None:
    samples = np.arange(1, 50 * S + 1, dtype=np.float32)
    windows = [*group([(2 * S, 5 * S), (9 * S, 10 * S)], pause=S), whole(40 * S, 45 * S)]
    laid = lay_out(samples, windows)
    assert len(laid) == 60 * S
    assert np.array_equal(laid[: 3 * S], samples[2 * S : 5 * S])
    # The pause of 4 s is its first and last half second.
    assert np.array_equal(laid[3 * S : 3 * S + S // 2], samples[5 * S : 5 * S + S // 2])
    assert np.array_equal(laid[3 * S + S // 2 : 4 * S], samples[9 * S - S // 2 : 9 * S])
    assert np.array_equal(laid[4 * S : 5 * S], samples[9 * S : 10 * S])
    assert not laid[5 * S : 30 * S].any()
    assert np.array_equal(laid[30 * S : 35 * S], samples[40 * S : 45 * S])
    assert not laid[35 * S :].any()
    assert slots(windows) == [{"start": 0.0, "end": 30.0}, {"start": 30.0, "end": 60.0}]


def test_times_heard_in_a_window_are_times_in_the_slice() -> None:
    windows = [*group([(2 * S, 5 * S), (9 * S, 10 * S)], pause=S), whole(40 * S, 45 * S)]
    assert [slot_of(t, windows) for t in (0.0, 29.9, 30.0, 61.0, -1.0)] == [0, 0, 1, 1, 0]
    assert slice_time(1.5, 0, windows) == pytest.approx(3.5)
    assert slice_time(4.25, 0, windows) == pytest.approx(9.25)
    assert slice_time(31.25, 1, windows) == pytest.approx(41.25)
    # In a shortened pause: its first half is the start of the real pause, its second half the end.
    assert slice_time(3.25, 0, windows) == pytest.approx(5.25)
    assert slice_time(3.75, 0, windows) == pytest.approx(8.75)
    # Whisper may place a word's end in the silence after the window: it is kept inside the window.
    assert slice_time(29.0, 0, windows) == pytest.approx(10.0)
    assert slice_time(29.5, 1, windows) == pytest.approx(40.0)
    assert slice_time(59.5, 1, windows) == pytest.approx(45.0)


@pytest.mark.parametrize("seed", range(5))
def test_every_sample_laid_out_maps_back_to_where_it_came_from(seed: int) -> None:
    rng = np.random.default_rng(seed)
    bounds = np.cumsum(rng.integers(S // 10, 8 * S, size=30))
    speech = [(int(a), int(b)) for a, b in zip(bounds[::2], bounds[1::2], strict=False)]
    samples = np.arange(1, bounds[-1] + 1, dtype=np.float32)
    windows = group(speech)
    laid = lay_out(samples, windows)
    for slot, window in enumerate(windows):
        for offset in rng.integers(0, window.length, size=50):
            seconds = slot * 30 + offset / S
            taken = laid[slot * 30 * S + offset]
            assert slice_time(seconds, slot, windows) == pytest.approx(
                (int(taken) - 1) / S, abs=1e-6
            )


def test_speech_no_word_was_heard_in_for_long_is_unheard() -> None:
    speech = [(0, 20 * S), (30 * S, 40 * S), (50 * S, 52 * S)]
    heard = [(1 * S, 2 * S), (4 * S, 5 * S), (12 * S, 13 * S), (31 * S, 39 * S)]
    assert unheard(speech, heard, 3 * S) == [(5 * S, 12 * S), (13 * S, 20 * S)]
    # A pause the stretch may hold is no miss; nor is a short stretch nobody spoke in.
    assert unheard(speech, heard, 8 * S) == []
    assert unheard([(0, 10 * S)], [], 3 * S) == [(0, 10 * S)]
    # Words in any order; one overlapping the stretch's start counts.
    assert unheard([(10 * S, 20 * S)], [(19 * S, 20 * S), (9 * S, 11 * S)], 3 * S) == [
        (11 * S, 19 * S)
    ]
