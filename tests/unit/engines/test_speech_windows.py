"""The batched decoder's windows: stretches of speech packed into 30 s windows with their pauses shortened, laid
out in silence, times mapped back to the slice."""

from __future__ import annotations

import numpy as np
import pytest

from asyncstt.engines.base import SAMPLE_RATE
from asyncstt.engines.speech_windows import (
    Piece,
    Window,
    every_window,
    group,
    lay_out,
    slice_time,
    slot_of,
    slots,
)

S = SAMPLE_RATE


def window(*pieces: tuple[float, float]) -> Window:
    return Window(tuple(Piece(round(start * S), round(end * S)) for start, end in pieces))


def test_short_pauses_stay_whole_and_long_ones_keep_a_second_split_either_side() -> None:
    speech = [(1 * S, 5 * S), (5 * S + S // 2, 20 * S), (25 * S, 31 * S), (60 * S, 70 * S)]
    assert group(speech) == [window((1, 20.5), (24.5, 31)), window((60, 70))]
    assert group(speech)[0].length == 26 * S


def test_stretches_share_a_window_while_their_speech_and_kept_pauses_fit_in_30_s() -> None:
    speech = [(0, 12 * S), (40 * S, 57 * S), (100 * S, 102 * S)]
    assert group(speech) == [window((0, 12.5), (39.5, 57)), window((100, 102))]
    assert group(speech, pause_seconds=10) == [window((0, 12)), window((40, 62), (95, 102))]


def test_a_stretch_longer_than_a_window_is_cut_into_windows() -> None:
    assert group([(2 * S, 70 * S)]) == [window((2, 32)), window((32, 62)), window((62, 70))]
    assert every_window(65 * S) == [window((0, 30)), window((30, 60)), window((60, 65))]
    assert group([]) == every_window(0) == []


def test_each_window_lays_its_pieces_end_to_end_at_the_start_of_its_own_30_s() -> None:
    samples = np.arange(1, 50 * S + 1, dtype=np.float32)
    windows = [window((2, 5), (10, 12)), window((40, 45))]
    laid = lay_out(samples, windows)
    assert len(laid) == 60 * S
    assert np.array_equal(laid[: 3 * S], samples[2 * S : 5 * S])
    assert np.array_equal(laid[3 * S : 5 * S], samples[10 * S : 12 * S])
    assert not laid[5 * S : 30 * S].any()
    assert np.array_equal(laid[30 * S : 35 * S], samples[40 * S : 45 * S])
    assert not laid[35 * S :].any()
    assert slots(windows) == [{"start": 0.0, "end": 30.0}, {"start": 30.0, "end": 60.0}]


def test_times_heard_in_a_window_are_times_in_the_slice_piece_by_piece() -> None:
    windows = [window((2, 5), (10, 12)), window((40, 45))]
    assert [slot_of(t, windows) for t in (0.0, 29.9, 30.0, 61.0, -1.0)] == [0, 0, 1, 1, 0]
    assert slice_time(1.5, 0, windows) == pytest.approx(3.5)
    assert slice_time(3.0, 0, windows) == pytest.approx(10.0)
    assert slice_time(4.25, 0, windows) == pytest.approx(11.25)
    assert slice_time(31.25, 1, windows) == pytest.approx(41.25)
    # Whisper may place a word's end in the silence after the window: it is kept inside the window.
    assert slice_time(29.0, 0, windows) == pytest.approx(12.0)
    assert slice_time(29.5, 1, windows) == pytest.approx(40.0)
