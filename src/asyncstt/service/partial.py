"""Partial results: what a running operation has recognised so far, as a prefix of its final transcript."""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Mapping

from asyncstt.pipeline.task import SliceResult
from asyncstt.recognition import Transcript

log = logging.getLogger(__name__)


def recognised_prefix(saved: Mapping[int, bytes]) -> Transcript:
    """The utterances of the saved slices that start before the first moment still unrecognised.

    Slices are numbered in the order they are planned, each channel's in time order, so the saved slices from
    the first one up to the first missing one cover each channel up to the end of its last one there (a
    channel with none of them: not at all). Every slice not among them starts after that on its channel, so
    every utterance that starts before the earliest of those ends, on any channel, comes from these slices,
    and the final transcript orders them exactly as here: what this returns is a prefix of it. A channel that
    has not spoken yet holds the prefix at the start of the file until it does.
    """
    results: list[SliceResult] = []
    for index in range(len(saved)):
        if index not in saved:
            break
        try:
            results.append(SliceResult.from_bytes(saved[index]))
        except (ValueError, KeyError, TypeError, zlib.error):
            log.warning("saved slice %d is unreadable; partial results stop before it", index)
            break
    channels = max((result.channels for result in results), default=0)
    covered = [0.0] * channels
    for result in results:
        if result.slice.channel < channels:
            end = result.slice.end
            covered[result.slice.channel] = math.inf if end is None else end
    until = min(covered, default=0.0)
    if until <= 0:
        return Transcript(channels=max(channels, 1))
    utterances = sorted(
        (u for result in results for u in result.utterances if u.start < until),
        key=lambda u: (u.start, u.channel, u.end),
    )
    decoded = max(result.slice.start + result.decoded_seconds for result in results)
    return Transcript(
        utterances=tuple(utterances), channels=channels, duration_seconds=min(until, decoded)
    )
