"""Stretches of time in whole milliseconds: who speaks when, merged, overlapped and complemented.

Times are rounded to milliseconds once, as the result stream spells them, so that speech and silence of a window
add up to the window exactly.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from asyncstt.recognition import Utterance


@dataclass(frozen=True, order=True)
class Span:
    """[start, end) in milliseconds from the start of the file."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def utterance_span(utterance: Utterance) -> Span:
    return Span(ms(utterance.start), max(ms(utterance.start), ms(utterance.end)))


def speech(utterances: Iterable[Utterance], bridge_ms: int = 0) -> list[Span]:
    """Where the utterances' words are being said, pauses shorter than `bridge_ms` counted as speech.

    An utterance without word timings counts as speech from its start to its end.
    """
    spans: list[Span] = []
    for utterance in utterances:
        if utterance.words:
            spans += (Span(ms(word.start), ms(word.end)) for word in utterance.words)
        else:
            spans.append(utterance_span(utterance))
    return merge(spans, bridge_ms)


def merge(spans: Iterable[Span], bridge_ms: int = 0) -> list[Span]:
    """The union of `spans`, ordered, joining neighbours less than `bridge_ms` apart; empty spans vanish."""
    merged: list[Span] = []
    for span in sorted(span for span in spans if span.length > 0):
        if merged and span.start - merged[-1].end < max(bridge_ms, 1):
            last = merged.pop()
            merged.append(Span(last.start, max(last.end, span.end)))
        else:
            merged.append(span)
    return merged


def total(spans: Iterable[Span]) -> int:
    return sum(span.length for span in spans)


def clip(spans: Iterable[Span], window: Span) -> list[Span]:
    """The parts of `spans` inside `window`."""
    clipped = (Span(max(s.start, window.start), min(s.end, window.end)) for s in spans)
    return [span for span in clipped if span.length > 0]


def gaps(spans: Sequence[Span], window: Span) -> list[Span]:
    """The parts of `window` that no span of the ordered, disjoint `spans` covers."""
    found: list[Span] = []
    cursor = window.start
    for span in clip(spans, window):
        if span.start > cursor:
            found.append(Span(cursor, span.start))
        cursor = max(cursor, span.end)
    if cursor < window.end:
        found.append(Span(cursor, window.end))
    return found


def overlaps(tracks: Sequence[Sequence[Span]]) -> list[Span]:
    """Where two or more of the tracks (each ordered and disjoint) cover the same time."""
    events = sorted(
        (point, step)
        for track in tracks
        for span in track
        for point, step in ((span.start, 1), (span.end, -1))
    )
    found: list[Span] = []
    active = 0
    opened = 0
    for point, step in events:
        if active >= 2 and point > opened:
            found.append(Span(opened, point))
        active += step
        opened = point
    return merge(found)


def covering(spans: Sequence[Span], point: int) -> Span | None:
    """The span of the ordered, disjoint `spans` that started before `point` and is still going on at it."""
    index = bisect.bisect_left(spans, point, key=lambda span: span.start) - 1
    if index >= 0 and spans[index].end > point:
        return spans[index]
    return None
