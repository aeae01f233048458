"""Conversation analysis: the speakers together, their overlaps, shared silences and interrupts."""

from __future__ import annotations

from dataclasses import dataclass

from asyncstt.analysis.speech import file_window, speakers, spoken
from asyncstt.analysis.statistics import Statistics, describe
from asyncstt.analysis.timeline import Span, clip, covering, gaps, merge, overlaps, speech, total
from asyncstt.recognition import Analytics, Transcript


@dataclass(frozen=True)
class Interrupts:
    """The times one speaker started speaking while another was speaking."""

    channel: int
    #: From the interrupter's start to where either of the two stopped, in the order they happened.
    spans: tuple[Span, ...]

    @property
    def duration_ms(self) -> int:
        return total(self.spans)


@dataclass(frozen=True)
class ConversationStats:
    """The whole file's conversation; durations in milliseconds, ratios as shares of the window."""

    window: Span
    speech_ms: int
    speech_ratio: float
    simultaneous_speech: tuple[Span, ...]
    simultaneous_speech_ratio: float
    simultaneous_speech_ms_stats: Statistics
    simultaneous_silence: tuple[Span, ...]
    simultaneous_silence_ratio: float
    simultaneous_silence_ms_stats: Statistics
    interrupts: tuple[Interrupts, ...]

    @property
    def simultaneous_speech_ms(self) -> int:
        return total(self.simultaneous_speech)

    @property
    def simultaneous_silence_ms(self) -> int:
        return total(self.simultaneous_silence)


def conversation_analysis(transcript: Transcript, analytics: Analytics) -> ConversationStats:
    """The figures of every speaker together over the whole file.

    Speech is anyone speaking (each speaker's pauses shorter than `silence_threshold_ms` included).
    Simultaneous speech: two or more speaking at once; simultaneous silence: nobody speaking, the file's
    start and end included; stretches shorter than their threshold are not counted. An interrupt: a speaker
    starts speaking while another speaker, who started earlier, still speaks; it lasts until either stops, and
    counts when it lasts at least `simultaneous_speech_threshold_ms` (and longer than nothing).
    """
    window = file_window(transcript)
    utterances = spoken(transcript)
    tracks = {
        channel: clip(
            speech((u for u in utterances if u.channel == channel), analytics.silence_threshold_ms),
            window,
        )
        for channel in speakers(transcript)
    }
    anyone = merge(span for track in tracks.values() for span in track)
    together = _long(overlaps(list(tracks.values())), analytics.simultaneous_speech_threshold_ms)
    quiet = _long(gaps(anyone, window), analytics.simultaneous_silence_threshold_ms)
    length = window.length
    levels = analytics.quantiles
    return ConversationStats(
        window=window,
        speech_ms=total(anyone),
        speech_ratio=_share(total(anyone), length),
        simultaneous_speech=tuple(together),
        simultaneous_speech_ratio=_share(total(together), length),
        simultaneous_speech_ms_stats=describe([span.length for span in together], levels),
        simultaneous_silence=tuple(quiet),
        simultaneous_silence_ratio=_share(total(quiet), length),
        simultaneous_silence_ms_stats=describe([span.length for span in quiet], levels),
        interrupts=tuple(
            Interrupts(channel, tuple(_interrupts(channel, tracks, analytics)))
            for channel in tracks
        ),
    )


def _interrupts(channel: int, tracks: dict[int, list[Span]], analytics: Analytics) -> list[Span]:
    others = merge(span for other, track in tracks.items() if other != channel for span in track)
    found: list[Span] = []
    for span in tracks[channel]:
        interrupted = covering(others, span.start)
        if interrupted is None:
            continue
        overlap = Span(span.start, min(span.end, interrupted.end))
        if overlap.length >= max(analytics.simultaneous_speech_threshold_ms, 1):
            found.append(overlap)
    return found


def _long(spans: list[Span], threshold_ms: int) -> list[Span]:
    return [span for span in spans if span.length >= threshold_ms]


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
