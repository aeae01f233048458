"""The batched decoder's windows: stretches of speech grouped into 30 s windows, laid out in silence, times mapped
back to the slice."""

from __future__ import annotations

import numpy as np
import pytest

from asyncstt.engines.base import SAMPLE_RATE
from asyncstt.engines.speech_windows import (
    Window,
    every_window,
    group,
    lay_out,
    slice_time,
    slot_of,
    slots,
)

S = SAMPLE_RATE


def test_stretches_share_a_window_while_it_spans_at_most_30_s_pauses_included() -> None:
    speech = [(1 * S, 5 * S), (8 * S, 20 * S), (25 * S, 31 * S), (33 * S, 40 * S)]
    assert group(speech) == [Window(1 * S, 31 * S), Window(33 * S, 40 * S)]


def test_a_stretch_longer_than_a_window_is_cut_into_windows() -> None:
    assert group([(2 * S, 70 * S)]) == [
        Window(2 * S, 32 * S),
        Window(32 * S, 62 * S),
        Window(62 * S, 70 * S),
    ]
    assert every_window(65 * S) == [
        Window(0, 30 * S),
        Window(30 * S, 60 * S),
        Window(60 * S, 65 * S),
    ]
    assert group([]) == every_window(0) == []


def test_each_window_starts_its_own_30_s_and_the_rest_is_silence() -> None:
    samples = np.arange(1, 50 * S + 1, dtype=np.float32)
    windows = [Window(2 * S, 5 * S), Window(40 * S, 45 * S)]
    laid = lay_out(samples, windows)
    assert len(laid) == 60 * S
    assert np.array_equal(laid[: 3 * S], samples[2 * S : 5 * S])
    assert not laid[3 * S : 30 * S].any()
    assert np.array_equal(laid[30 * S : 35 * S], samples[40 * S : 45 * S])
    assert not laid[35 * S :].any()
    assert slots(windows) == [{"start": 0.0, "end": 30.0}, {"start": 30.0, "end": 60.0}]


def test_times_heard_in_a_window_are_times_in_the_slice() -> None:
    windows = [Window(2 * S, 5 * S), Window(40 * S, 45 * S)]
    assert [slot_of(t, windows) for t in (0.0, 29.9, 30.0, 61.0, -1.0)] == [0, 0, 1, 1, 0]
    assert slice_time(1.5, 0, windows) == pytest.approx(3.5)
    assert slice_time(31.25, 1, windows) == pytest.approx(41.25)
    # Whisper may place a word's end in the silence after the window: it is kept inside the window.
    assert slice_time(29.0, 0, windows) == pytest.approx(5.0)
    assert slice_time(29.5, 1, windows) == pytest.approx(40.0)
