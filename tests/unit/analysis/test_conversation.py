from __future__ import annotations

import pytest

from asyncstt.analysis.conversation import conversation_analysis
from asyncstt.analysis.statistics import Quantile
from asyncstt.analysis.timeline import Span
from asyncstt.recognition import Analytics, Transcript
from tests.factories import make_utterance
from tests.unit.analysis.test_speech import CALL, HELLO


def test_talk_time_together_overlaps_and_shared_silences_of_a_call() -> None:
    stats = conversation_analysis(CALL, Analytics(conversation_analysis=True, quantiles=(0.25,)))

    assert stats.window == Span(0, 10_000)
    # Anyone speaking: 0-1 s, 1.2-3 s, 6-8 s.
    assert stats.speech_ms == 4_800
    assert stats.speech_ratio == pytest.approx(0.48)
    assert stats.simultaneous_speech == (Span(1_500, 2_000), Span(6_500, 7_000))
    assert (stats.simultaneous_speech_ms, stats.simultaneous_speech_ratio) == (1_000, 0.1)
    assert stats.simultaneous_speech_ms_stats.mean == 500.0
    # Nobody speaking: the 200 ms pause, 3-6 s and the last two seconds of the file.
    assert stats.simultaneous_silence == (
        Span(1_000, 1_200),
        Span(3_000, 6_000),
        Span(8_000, 10_000),
    )
    assert (stats.simultaneous_silence_ms, stats.simultaneous_silence_ratio) == (5_200, 0.52)
    silences = stats.simultaneous_silence_ms_stats
    assert (silences.min, silences.max) == (200.0, 3_000.0)
    assert silences.mean == pytest.approx(5_200 / 3)
    assert silences.quantiles == (Quantile(0.25, 1_100.0),)


def test_a_speaker_interrupts_by_starting_while_the_other_speaks_until_either_stops() -> None:
    stats = conversation_analysis(CALL, Analytics(conversation_analysis=True))

    first, second = stats.interrupts
    assert (first.channel, first.spans) == (0, ())
    assert (second.channel, second.spans) == (1, (Span(1_500, 2_000), Span(6_500, 7_000)))
    assert second.duration_ms == 1_000


def test_overlaps_shorter_than_the_simultaneous_speech_threshold_are_neither_overlap_nor_interrupt() -> (
    None
):
    stats = conversation_analysis(
        CALL, Analytics(conversation_analysis=True, simultaneous_speech_threshold_ms=600)
    )

    assert stats.simultaneous_speech == ()
    assert [interrupts.spans for interrupts in stats.interrupts] == [(), ()]


def test_silences_shorter_than_the_simultaneous_silence_threshold_are_not_counted() -> None:
    stats = conversation_analysis(
        CALL, Analytics(conversation_analysis=True, simultaneous_silence_threshold_ms=500)
    )

    assert stats.simultaneous_silence == (Span(3_000, 6_000), Span(8_000, 10_000))


def test_starting_together_is_no_interrupt_and_a_bridged_pause_is_no_new_start() -> None:
    both = Transcript(
        utterances=(
            make_utterance(0, [("one", 0.0, 1.0), ("two", 1.1, 3.0)], "One two."),
            make_utterance(1, [("yes", 0.0, 0.5), ("right", 0.6, 1.5)], "Yes right."),
        ),
        channels=2,
        duration_seconds=3.0,
    )

    strict = conversation_analysis(both, Analytics())
    bridged = conversation_analysis(both, Analytics(silence_threshold_ms=200))

    # Word by word, each resumes over the other: channel 1 at 0.6 s, channel 0 at 1.1 s.
    assert [i.spans for i in strict.interrupts] == [(Span(1_100, 1_500),), (Span(600, 1_000),)]
    # With pauses under 200 ms bridged both speak throughout from 0 s: nobody interrupts.
    assert [i.spans for i in bridged.interrupts] == [(), ()]
    assert bridged.simultaneous_speech == (Span(0, 1_500),)


def test_one_speaker_alone_overlaps_nobody() -> None:
    alone = Transcript(utterances=(HELLO,), channels=1, duration_seconds=4.0)

    stats = conversation_analysis(alone, Analytics())

    assert stats.simultaneous_speech == ()
    assert [(i.channel, i.spans) for i in stats.interrupts] == [(0, ())]
    assert stats.simultaneous_silence == (Span(1_000, 1_200), Span(2_000, 4_000))
