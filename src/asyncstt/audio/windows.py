"""Reading every channel of a file at 16 kHz in consecutive windows, so a long file never sits in memory whole."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from asyncstt.audio.decode import TARGET_RATE, Samples, decode_channels
from asyncstt.audio.probe import AudioInfo


@dataclass(frozen=True)
class Window:
    """Seconds [start, start + len / 16000) of every channel; `last` when the audio ends in it."""

    start: float
    channels: tuple[Samples, ...]
    last: bool


def windows(
    path: Path, info: AudioInfo, seconds: float, first_seconds: float | None = None
) -> Iterator[Window]:
    """Windows of `seconds` (the first of `first_seconds`, when given) until the decoded audio ends, wherever
    the header said it would.

    Windows start on whole 16 kHz samples, so their samples join into exactly those of one decode of the
    channel.
    """
    step = round((seconds if first_seconds is None else first_seconds) * TARGET_RATE)
    first = 0
    while True:
        start, end = first / TARGET_RATE, (first + step) / TARGET_RATE
        channels = decode_channels(path, info, range(info.channels), start, end)
        last = max(len(samples) for samples in channels) < step
        yield Window(start, channels, last)
        if last:
            return
        first += step
        step = round(seconds * TARGET_RATE)
