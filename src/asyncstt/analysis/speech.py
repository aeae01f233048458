"""Speaker analysis: how much, how fast and in how long utterances one channel tag speaks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asyncstt.analysis.statistics import Statistics, describe
from asyncstt.analysis.timeline import Span, clip, speech, total, utterance_span
from asyncstt.recognition import Analytics, Transcript, Utterance


@dataclass(frozen=True)
class SpeakerStats:
    """What one speaker (a channel, or a labelled speaker) did within a window of the file.

    Durations are in milliseconds; ratios are shares of the window.
    """

    channel: int
    window: Span
    speech_ms: int
    silence_ms: int
    speech_ratio: float
    silence_ratio: float
    words: int
    letters: int
    utterances: int
    words_per_second: Statistics
    letters_per_second: Statistics
    words_per_utterance: Statistics
    letters_per_utterance: Statistics
    utterance_duration_ms: Statistics


def spoken(transcript: Transcript) -> tuple[Utterance, ...]:
    """The utterances the result stream carries: those with text."""
    return tuple(utterance for utterance in transcript.utterances if utterance.text.strip())


def speakers(transcript: Transcript) -> list[int]:
    """Every channel of the file and every speaker an utterance names, in order."""
    return sorted(set(range(transcript.channels)) | {u.channel for u in transcript.utterances})


def file_window(transcript: Transcript) -> Span:
    """From the start of the file to its end, or to the last word where timings run past the decoded end."""
    ends = [utterance_span(u).end for u in spoken(transcript)]
    return Span(0, max([round(transcript.duration_seconds * 1000), *ends]))


def total_analysis(transcript: Transcript, analytics: Analytics) -> list[SpeakerStats]:
    """One speaker's figures over the whole file, for every speaker (a silent channel too)."""
    window = file_window(transcript)
    utterances = spoken(transcript)
    return [
        speaker_stats(channel, [u for u in utterances if u.channel == channel], window, analytics)
        for channel in speakers(transcript)
    ]


def utterance_analysis(utterance: Utterance, analytics: Analytics) -> SpeakerStats:
    """The speaker's figures over one utterance, from its first word to its last."""
    return speaker_stats(utterance.channel, [utterance], utterance_span(utterance), analytics)


def speaker_stats(
    channel: int, utterances: Sequence[Utterance], window: Span, analytics: Analytics
) -> SpeakerStats:
    """The figures of `utterances` (one speaker's) within `window`.

    Speech is where words are said, pauses shorter than `silence_threshold_ms` included; silence is the rest of
    the window. Rates are per utterance: its words (or letters) over its duration, first word to last.
    """
    said = total(clip(speech(utterances, analytics.silence_threshold_ms), window))
    length = window.length
    words = [len(u.words) for u in utterances]
    letters = [_letters(u) for u in utterances]
    durations = [utterance_span(u).length for u in utterances]
    timed = [(w, n, d) for w, n, d in zip(words, letters, durations, strict=True) if d > 0]
    levels = analytics.quantiles
    return SpeakerStats(
        channel=channel,
        window=window,
        speech_ms=said,
        silence_ms=length - said,
        speech_ratio=said / length if length else 0.0,
        silence_ratio=(length - said) / length if length else 0.0,
        words=sum(words),
        letters=sum(letters),
        utterances=len(utterances),
        words_per_second=describe([w * 1000 / d for w, _, d in timed], levels),
        letters_per_second=describe([n * 1000 / d for _, n, d in timed], levels),
        words_per_utterance=describe(words, levels),
        letters_per_utterance=describe(letters, levels),
        utterance_duration_ms=describe(durations, levels),
    )


def _letters(utterance: Utterance) -> int:
    # Words are in the spoken form, numbers spelled out, so every letter of them is said.
    return sum(character.isalpha() for word in utterance.words for character in word.text)
