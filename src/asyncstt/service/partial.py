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

    Slices are planned in time order, every channel of one stretch before the next stretch, so the saved
    slices from the first one up to the first missing one cover the file up to a moment T: the end of the last
    stretch whose channels are all saved, or the start of a stretch saved only in part. Every utterance that
    starts before T comes from those slices, and the final transcript orders them exactly as here, so what
    this returns is a prefix of it. How many channels a stretch has is known once a slice of the second
    stretch is saved; until then T is the start of the first stretch and the prefix is empty.
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
    if not results:
        return Transcript()
    first = results[0].slice.start
    channels = sum(result.slice.start == first for result in results)
    complete = any(result.slice.start != first for result in results)
    last = results[-1].slice
    until = last.start
    if complete and len(results) % channels == 0:
        until = math.inf if last.end is None else last.end
    utterances = sorted(
        (u for result in results for u in result.utterances if u.start < until),
        key=lambda u: (u.start, u.channel, u.end),
    )
    decoded = max(result.slice.start + result.decoded_seconds for result in results)
    return Transcript(
        utterances=tuple(utterances),
        channels=max(result.slice.channel for result in results) + 1,
        duration_seconds=min(until, decoded),
    )
