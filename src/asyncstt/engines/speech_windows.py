"""Windows for the batched decoder: a slice's stretches of speech packed into windows of at most 30 s, the pauses
between them shortened to a second, each window laid out at the start of its own 30 s of digital silence, and the
times heard there mapped back to the slice.

Whisper was trained on 30 s windows whose unused end is digital silence. faster-whisper's batched pipeline joins
speech with the pauses cut out and pads each window's spectrogram with a constant that is not silence: on
2 minutes of read speech and of one side of a call that cost 2 to 21 points of word error rate against the
sequential decoder. Laid out this way, each window ends in true silence and its stretches keep a pause between
them (the first and last half second of the real one), so Whisper still hears where one phrase ends and the next
begins. Keeping the whole pause instead left a window on a call half empty (the other party's turns); packed,
a call's windows hold speech as the stock pipeline's do (figures in docs/architecture.md).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from asyncstt.engines.base import SAMPLE_RATE, Samples

#: The length of the window Whisper hears at once, in seconds.
WINDOW_SECONDS = 30
_WINDOW = WINDOW_SECONDS * SAMPLE_RATE
#: The longest pause kept between two stretches in a window, in seconds; a shorter one is kept whole.
PAUSE_SECONDS = 1.0
_PAUSE = round(PAUSE_SECONDS * SAMPLE_RATE)
#: A `pause` for `group` that keeps every pause whole: none in a window is longer than the window.
WHOLE_PAUSES = _WINDOW


@dataclass(frozen=True)
class Piece:
    """Samples [start, end) of the slice, laid `at` samples into its window."""

    start: int
    end: int
    at: int

    @property
    def after(self) -> int:
        """Where the piece ends in its window."""
        return self.at + self.end - self.start


@dataclass(frozen=True)
class Window:
    """Stretches of the slice decoded as one batch item, in order."""

    pieces: tuple[Piece, ...]

    @property
    def length(self) -> int:
        """Samples the window's pieces and pauses take."""
        return self.pieces[-1].after


def group(speech: Sequence[tuple[int, int]], pause: int = _PAUSE) -> list[Window]:
    """Consecutive stretches of speech (sample ranges, in order) packed while a window takes at most 30 s, each
    pause between them shortened to at most `pause` samples; a stretch longer than a window is cut into 30 s
    windows."""
    windows: list[Window] = []
    for start, end in speech:
        if windows:
            last = windows[-1]
            at = last.length + min(start - last.pieces[-1].end, pause)
            if at + end - start <= _WINDOW:
                windows[-1] = Window((*last.pieces, Piece(start, end, at)))
                continue
        for cut in range(start, end, _WINDOW):
            windows.append(Window((Piece(cut, min(cut + _WINDOW, end), 0),)))
    return windows


def every_window(samples: int) -> list[Window]:
    """The whole slice in consecutive 30 s windows, for decoding without VAD."""
    return group([(0, samples)]) if samples else []


def lay_out(samples: Samples, windows: Sequence[Window]) -> Samples:
    """Each window's pieces from the start of its own 30 s, a shortened pause (the first and last halves of the
    real one) between them, the rest digital silence."""
    laid = np.zeros(len(windows) * _WINDOW, dtype=np.float32)
    for index, window in enumerate(windows):
        base = index * _WINDOW
        for piece, following in zip(window.pieces, (*window.pieces[1:], None), strict=True):
            laid[base + piece.at : base + piece.after] = samples[piece.start : piece.end]
            if following is None:
                continue
            gap = following.at - piece.after
            head = gap // 2
            tail = gap - head
            laid[base + piece.after : base + piece.after + head] = samples[
                piece.end : piece.end + head
            ]
            laid[base + following.at - tail : base + following.at] = samples[
                following.start - tail : following.start
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
    """A time heard in window `slot` of the laid-out samples, as a time in the slice, kept inside the window's
    speech: in a shortened pause, its first half maps to the start of the real pause, its second to the end."""
    window = windows[slot]
    local = min(max(seconds - slot * WINDOW_SECONDS, 0.0) * SAMPLE_RATE, window.length)
    index = max(bisect.bisect_right([piece.at for piece in window.pieces], local) - 1, 0)
    piece = window.pieces[index]
    if local <= piece.after or index + 1 == len(window.pieces):
        sample = piece.start + min(local - piece.at, piece.end - piece.start)
    else:
        following = window.pieces[index + 1]
        head = (following.at - piece.after) // 2
        if local - piece.after <= head:
            sample = piece.end + (local - piece.after)
        else:
            sample = following.start - (following.at - local)
    return sample / SAMPLE_RATE


def unheard(
    speech: Sequence[tuple[int, int]], heard: Sequence[tuple[int, int]], longest: int
) -> list[tuple[int, int]]:
    """The parts of the stretches of `speech` longer than `longest` samples that no word `heard` overlaps (sample
    ranges; the words in any order)."""
    words = sorted(heard)
    starts = [start for start, _ in words]
    missed: list[tuple[int, int]] = []
    for start, end in speech:
        cursor = start
        # Words are short: one that overlaps the stretch starts at most a window before it.
        first = bisect.bisect_left(starts, start - _WINDOW)
        for word_start, word_end in words[first:]:
            if word_start >= end:
                break
            if word_start - cursor > longest:
                missed.append((cursor, word_start))
            cursor = max(cursor, word_end)
        if end - cursor > longest:
            missed.append((cursor, end))
    return missed
