from __future__ import annotations

import pytest

from asyncstt.analysis.speech import speaker_stats, total_analysis, utterance_analysis
from asyncstt.analysis.statistics import Quantile
from asyncstt.analysis.timeline import Span
from asyncstt.recognition import Analytics, Transcript, Utterance
from tests.factories import make_utterance

#: A 10 s two-channel call. Channel 0 says "hello there" (0-1 s), pauses 200 ms, "friend" (1.2-2 s), and later
#: "okay" (6-7 s); channel 1 breaks in with "wait what" (1.5-3 s) and "yes" (6.5-8 s).
HELLO = make_utterance(
    0, [("hello", 0.0, 0.5), ("there", 0.5, 1.0), ("friend", 1.2, 2.0)], "Hello there, friend."
)
OKAY = make_utterance(0, [("okay", 6.0, 7.0)], "Okay.")
WAIT = make_utterance(1, [("wait", 1.5, 2.5), ("what", 2.5, 3.0)], "Wait, what?")
YES = make_utterance(1, [("yes", 6.5, 8.0)], "Yes.")
CALL = Transcript(utterances=(HELLO, WAIT, OKAY, YES), channels=2, duration_seconds=10.0)


def test_a_speakers_talk_time_is_where_its_words_are_said_and_silence_the_rest_of_the_file() -> (
    None
):
    first, second = total_analysis(CALL, Analytics(speaker_analysis=True))

    assert first.channel == 0
    assert first.window == Span(0, 10_000)
    assert (first.speech_ms, first.silence_ms) == (2_800, 7_200)
    assert (first.speech_ratio, first.silence_ratio) == pytest.approx((0.28, 0.72))
    assert second.channel == 1
    assert (second.speech_ms, second.silence_ms) == (3_000, 7_000)


def test_pauses_shorter_than_the_silence_threshold_count_as_speech() -> None:
    first, _ = total_analysis(CALL, Analytics(speaker_analysis=True, silence_threshold_ms=300))

    assert first.speech_ms == 3_000


def test_words_letters_and_rates_are_counted_per_utterance() -> None:
    first, _ = total_analysis(CALL, Analytics(speaker_analysis=True, quantiles=(0.5,)))

    assert (first.words, first.letters, first.utterances) == (4, 20, 2)
    assert (first.words_per_utterance.min, first.words_per_utterance.max) == (1.0, 3.0)
    assert first.letters_per_utterance.mean == 10.0
    # "hello there friend" lasts 2 s (1.5 words/s, 8 letters/s); "okay" 1 s (1 word/s, 4 letters/s).
    assert first.words_per_second.mean == pytest.approx(1.25)
    assert first.words_per_second.std == pytest.approx(0.25)
    assert first.letters_per_second.quantiles == (Quantile(0.5, 6.0),)
    assert first.utterance_duration_ms.quantiles == (Quantile(0.5, 1_500.0),)
    assert (first.utterance_duration_ms.min, first.utterance_duration_ms.max) == (1_000.0, 2_000.0)


def test_a_channel_with_nothing_said_is_all_silence() -> None:
    quiet = Transcript(utterances=(HELLO,), channels=2, duration_seconds=4.0)

    _, second = total_analysis(quiet, Analytics(speaker_analysis=True, quantiles=(0.5,)))

    assert (second.speech_ms, second.silence_ms, second.silence_ratio) == (0, 4_000, 1.0)
    assert (second.words, second.utterances) == (0, 0)
    assert second.words_per_second.quantiles == (Quantile(0.5, 0.0),)


def test_labelled_speakers_of_a_mono_file_are_analysed_by_their_channel_tags() -> None:
    labelled = Transcript(
        utterances=(HELLO, Utterance(1, 3.0, 4.0, WAIT.words, "wait what", "Wait, what?")),
        channels=1,
        duration_seconds=5.0,
    )

    assert [stats.channel for stats in total_analysis(labelled, Analytics())] == [0, 1]


def test_an_utterance_without_text_is_not_analysed_as_it_is_not_in_the_stream() -> None:
    silent = make_utterance(0, [("um", 3.0, 4.0)], "")
    with_silent = Transcript(utterances=(HELLO, silent), channels=1, duration_seconds=5.0)

    (stats,) = total_analysis(with_silent, Analytics())

    assert (stats.speech_ms, stats.utterances) == (1_800, 1)


def test_words_timed_past_the_decoded_end_widen_the_window() -> None:
    short = Transcript(utterances=(HELLO,), channels=1, duration_seconds=1.5)

    (stats,) = total_analysis(short, Analytics())

    assert stats.window == Span(0, 2_000)
    assert stats.silence_ms == 200


def test_an_utterance_window_runs_from_its_first_word_to_its_last() -> None:
    stats = utterance_analysis(HELLO, Analytics())

    assert stats.window == Span(0, 2_000)
    assert (stats.speech_ms, stats.silence_ms, stats.speech_ratio) == (1_800, 200, 0.9)
    assert (stats.words, stats.utterances) == (3, 1)


def test_an_empty_window_has_no_ratios() -> None:
    stats = speaker_stats(0, [], Span(0, 0), Analytics())

    assert (stats.speech_ratio, stats.silence_ratio) == (0.0, 0.0)
