"""Windows for the batched decoder: a slice's stretches of speech grouped into windows of at most 30 s, each laid
out at the start of its own 30 s of digital silence, and the times heard there mapped back to the slice.

Whisper was trained on 30 s windows whose unused end is digital silence. faster-whisper's batched pipeline instead
joins speech with the pauses cut out and pads each window's spectrogram with a constant that is not silence: on
2 minutes of read speech and of one side of a call that cost 2 to 21 points of word error rate against the
sequential decoder. Laid out this way, each window keeps its natural pauses and ends in true silence, and the
batched decoder's word error rate comes within a point of the sequential one's (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from asyncstt.engines.base import SAMPLE_RATE, Samples

#: The length of the window Whisper hears at once, in seconds.
WINDOW_SECONDS = 30
_WINDOW = WINDOW_SECONDS * SAMPLE_RATE


@dataclass(frozen=True)
class Window:
    """Samples [start, end) of the slice, decoded as one batch item."""

    start: int
    end: int


def group(speech: Sequence[tuple[int, int]]) -> list[Window]:
    """Consecutive stretches of speech (sample ranges, in order) joined while a window spans at most 30 s,
    pauses included; a stretch longer than that is cut into 30 s windows."""
    windows: list[Window] = []
    for start, end in speech:
        if windows and end - windows[-1].start <= _WINDOW:
            windows[-1] = Window(windows[-1].start, end)
            continue
        for cut in range(start, end, _WINDOW):
            windows.append(Window(cut, min(cut + _WINDOW, end)))
    return windows


def every_window(samples: int) -> list[Window]:
    """The whole slice in consecutive 30 s windows, for decoding without VAD."""
    return group([(0, samples)]) if samples else []


def lay_out(samples: Samples, windows: Sequence[Window]) -> Samples:
    """Each window's samples at the start of its own 30 s, the rest digital silence."""
    laid = np.zeros(len(windows) * _WINDOW, dtype=np.float32)
    for index, window in enumerate(windows):
        laid[index * _WINDOW : index * _WINDOW + window.end - window.start] = samples[
            window.start : window.end
        ]
    return laid


def slots(windows: Sequence[Window]) -> list[dict[str, float]]:
    """The laid-out windows as faster-whisper's clip timestamps (seconds)."""
    return [
        {"start": float(index * WINDOW_SECONDS), "end": float((index + 1) * WINDOW_SECONDS)}
        for index in range(len(windows))
    ]


def slot_of(seconds: float, windows: Sequence[Window]) -> int:
    """The window a time in the laid-out samples belongs to."""
    return min(max(int(seconds // WINDOW_SECONDS), 0), len(windows) - 1)


def slice_time(seconds: float, slot: int, windows: Sequence[Window]) -> float:
    """A time heard in window `slot` of the laid-out samples, as a time in the slice, kept inside the window."""
    window = windows[slot]
    within = min(
        max(seconds - slot * WINDOW_SECONDS, 0.0), (window.end - window.start) / SAMPLE_RATE
    )
    return window.start / SAMPLE_RATE + within
