"""Finding silence to cut slices at, when slices are not planned from speech: the quietest moment near a point,
energy summed over every channel, read from the file's own samples."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from asyncstt.audio.decode import ffmpeg_errors_refused, native_blocks
from asyncstt.audio.probe import AudioInfo

# find_quiet_point measures energy over frames of this length, one every hop.
_QUIET_FRAME_SECONDS = 0.1
_QUIET_HOP_SECONDS = 0.01


def find_quiet_point(path: Path, info: AudioInfo, around: float, window: float) -> float:
    """Seconds: the centre of the quietest 100 ms (energy summed over all channels) in `around` ± `window`.

    Frames that are equally quiet (digital silence) make a run, and the centre of the longest run is taken, so a
    cut lands in the middle of a pause rather than at its edge. The window is clipped to the file.
    """
    rate = info.sample_rate
    low, high = max(0.0, around - window), min(info.duration_seconds, around + window)
    fallback = min(max(around, 0.0), info.duration_seconds)
    frame = max(1, round(_QUIET_FRAME_SECONDS * rate))
    hop = max(1, round(_QUIET_HOP_SECONDS * rate))
    first, last = math.floor(low * rate), math.ceil(high * rate)
    if last - first < frame:
        return fallback
    with ffmpeg_errors_refused():
        base, energy = _energy(path, info, low, first, last)
    if len(energy) < frame:
        return fallback
    sums = np.concatenate(([0.0], np.cumsum(energy)))
    starts = np.arange(0, len(energy) - frame + 1, hop)
    frames = sums[starts + frame] - sums[starts]
    quiet = frames <= frames.min() * (1 + 1e-3) + 1e-9 * frame
    best = _longest_run(quiet, starts, (around * rate) - base - frame / 2)
    return float((base + starts[best] + frame / 2) / rate)


def _longest_run(quiet: NDArray[np.bool_], starts: NDArray[np.int_], target: float) -> int:
    """Index of the middle of the longest run of True in `quiet`; among equals, the run nearest `target`."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
    runs = list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
    begin, end = max(
        runs, key=lambda run: (run[1] - run[0], -abs(starts[(run[0] + run[1] - 1) // 2] - target))
    )
    return int(begin + end - 1) // 2


def _energy(
    path: Path, info: AudioInfo, low: float, first: int, last: int
) -> tuple[int, NDArray[np.float64]]:
    """Per-sample energy summed over channels for file samples [first, last), and where it really starts."""
    pieces: list[NDArray[np.float64]] = []
    base: int | None = None
    for block in native_blocks(path, info, range(info.channels), low, last):
        skip = max(0, first - block.position)
        keep = min(block.data.shape[1], last - block.position)
        if keep <= skip:
            continue
        if base is None:
            base = block.position + skip
        pieces.append(np.square(block.data[:, skip:keep], dtype=np.float64).sum(axis=0))
    if base is None:
        return first, np.zeros(0)
    return base, np.concatenate(pieces)
