"""Windows for the batched decoder: a slice's stretches of speech packed into windows of at most 30 s, the pauses
between them shortened to at most `PAUSE_SECONDS`, each window laid out at the start of its own 30 s of digital
silence, and the times heard there mapped back to the slice.

Whisper was trained on 30 s windows whose unused end is digital silence. faster-whisper's batched pipeline instead
joins speech with the pauses cut out and pads each window's spectrogram with a constant that is not silence: on
2 minutes of read speech and of one side of a call that cost 2 to 21 points of word error rate against the
sequential decoder. Laid out this way, each window ends in true silence and its speech keeps a pause between
stretches, so the batched decoder's word error rate stays within a point of the sequential one's; and since a
long pause (on one side of a call, the other party's turn) counts only `PAUSE_SECONDS`, a window holds nearly
30 s of speech and a call's channel needs about half the windows that whole pauses took (docs/architecture.md).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from asyncstt.engines.base import SAMPLE_RATE, Samples

#: The length of the window Whisper hears at once, in seconds.
WINDOW_SECONDS = 30
_WINDOW = WINDOW_SECONDS * SAMPLE_RATE
#: The longest pause kept between two stretches of speech in a window; a longer one keeps its first and last
#: halves of this, joined. On 10 minutes of each side of a call this took 13 windows instead of 20 and 27 %
#: less time, at the same word error rate (2.7-3.3 %); shorter stretches of speech (a finer VAD) packed
#: tighter still but lost words where windows broke mid-sentence.
PAUSE_SECONDS = 1.0


@dataclass(frozen=True)
class Piece:
    """Samples [start, end) of the slice, heard in a window right after the piece before it."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Window:
    """The pieces of the slice decoded as one batch item, in order, together at most 30 s."""

    pieces: tuple[Piece, ...]

    @property
    def length(self) -> int:
        return sum(piece.length for piece in self.pieces)

    def slice_sample(self, offset: int) -> int:
        """The slice's sample heard `offset` samples into the window (kept inside the window's pieces)."""
        starts = list(itertools.accumulate((piece.length for piece in self.pieces), initial=0))
        offset = min(max(offset, 0), starts[-1])
        index = min(bisect.bisect_right(starts, offset) - 1, len(self.pieces) - 1)
        return self.pieces[index].start + offset - starts[index]


def group(speech: Sequence[tuple[int, int]], pause_seconds: float = PAUSE_SECONDS) -> list[Window]:
    """Consecutive stretches of speech (sample ranges, in order) packed into windows of at most 30 s, each
    pause between them shortened to at most `pause_seconds`; a stretch longer than a window is cut into 30 s
    windows."""
    pause = round(pause_seconds * SAMPLE_RATE)
    windows: list[list[Piece]] = []
    for start, end in speech:
        if windows:
            pieces = windows[-1]
            last = pieces[-1]
            kept = min(start - last.end, pause)
            if sum(p.length for p in pieces) + kept + end - start <= _WINDOW:
                if kept == start - last.end:
                    pieces[-1] = Piece(last.start, end)
                else:
                    pieces[-1] = Piece(last.start, last.end + kept // 2)
                    pieces.append(Piece(start - (kept - kept // 2), end))
                continue
        windows += [[Piece(cut, min(cut + _WINDOW, end))] for cut in range(start, end, _WINDOW)]
    return [Window(tuple(pieces)) for pieces in windows]


def every_window(samples: int) -> list[Window]:
    """The whole slice in consecutive 30 s windows, for decoding without VAD."""
    return group([(0, samples)]) if samples else []


def lay_out(samples: Samples, windows: Sequence[Window]) -> Samples:
    """Each window's pieces one after another at the start of its own 30 s, the rest digital silence."""
    laid = np.zeros(len(windows) * _WINDOW, dtype=np.float32)
    for index, window in enumerate(windows):
        at = index * _WINDOW
        for piece in window.pieces:
            laid[at : at + piece.length] = samples[piece.start : piece.end]
            at += piece.length
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
    offset = round((seconds - slot * WINDOW_SECONDS) * SAMPLE_RATE)
    return windows[slot].slice_sample(offset) / SAMPLE_RATE
