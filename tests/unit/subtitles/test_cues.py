from __future__ import annotations

import itertools

import pytest

from asyncstt.recognition import Transcript
from asyncstt.subtitles import Cue, cues
from tests.unit.subtitles.support import steady, transcript, utterance


def _shown(cut: list[Cue]) -> list[str]:
    return [word for cue in cut for line in cue.lines for word in line.split()]


def _check_limits(cut: list[Cue]) -> None:
    for cue in cut:
        assert 1 <= len(cue.lines) <= 2
        assert all(len(line) <= 42 or " " not in line for line in cue.lines)
        assert 0 <= cue.end - cue.start <= 7.0
    for channel in {cue.channel for cue in cut}:
        own = [cue for cue in cut if cue.channel == channel]
        assert all(a.end <= b.start for a, b in itertools.pairwise(own))


def test_an_empty_transcript_has_no_cues() -> None:
    assert cues(Transcript()) == []


def test_a_short_utterance_is_one_cue_timed_by_its_words() -> None:
    cut = cues(transcript(utterance(0, ("hello", 0.5, 0.9), ("world", 1.0, 1.4))))
    assert cut == [Cue(channel=0, start=0.5, end=1.4, lines=("hello world",))]


def test_lines_hold_at_most_42_characters_and_cues_two_lines() -> None:
    words = [f"word{i:02d}" for i in range(20)]  # 6 characters each: six fit a line
    cut = cues(transcript(steady(0, words, 0.0, 0.1)))
    assert [cue.lines for cue in cut] == [
        (" ".join(words[0:6]), " ".join(words[6:12])),
        (" ".join(words[12:18]), " ".join(words[18:20])),
    ]
    assert len(" ".join(words[0:6])) == 41
    assert cut[1].start == pytest.approx(1.2)
    _check_limits(cut)


def test_a_word_longer_than_a_line_stands_alone_uncut() -> None:
    long = "pneumonoultramicroscopicsilicovolcanoconiosis-x"  # 47 characters
    cut = cues(transcript(utterance(0, ("the", 0.0, 0.2), (long, 0.3, 1.5), ("again", 1.6, 1.8))))
    assert len(long) > 42
    assert [cue.lines for cue in cut] == [("the", long), ("again",)]
    assert _shown(cut) == ["the", long, "again"]
    _check_limits(cut)


def test_a_pause_longer_than_a_second_starts_a_new_cue() -> None:
    cut = cues(
        transcript(
            utterance(
                0, ("one", 0.0, 0.3), ("two", 1.3, 1.5), ("three", 2.6, 2.9), ("four", 3.0, 3.2)
            )
        )
    )
    # 1.0 s between `one` and `two` is no pause; 1.1 s before `three` is.
    assert [(cue.start, cue.end, cue.lines) for cue in cut] == [
        (0.0, 1.5, ("one two",)),
        (2.6, 3.2, ("three four",)),
    ]


def test_continuous_speech_is_cut_every_seven_seconds() -> None:
    words = ["la"] * 40  # 20 s without a pause, two short words a second
    cut = cues(transcript(steady(0, words, 10.0, 0.5)))
    assert [(cue.start, cue.end) for cue in cut] == [(10.0, 17.0), (17.0, 24.0), (24.0, 30.0)]
    assert _shown(cut) == words
    _check_limits(cut)


def test_each_utterance_starts_a_cue() -> None:
    cut = cues(
        transcript(
            utterance(0, ("yes", 0.0, 0.4)),
            utterance(0, ("no", 0.5, 0.8)),
        )
    )
    assert [cue.lines for cue in cut] == [("yes",), ("no",)]


def test_a_cue_ends_when_the_next_of_its_channel_starts() -> None:
    cut = cues(
        transcript(
            utterance(0, ("first", 0.0, 2.5)),
            utterance(0, ("second", 2.0, 3.0)),
        )
    )
    assert [(cue.start, cue.end) for cue in cut] == [(0.0, 2.0), (2.0, 3.0)]


def test_a_single_word_longer_than_seven_seconds_is_cut_short() -> None:
    cut = cues(transcript(utterance(0, ("mmmm", 1.0, 9.5))))
    assert [(cue.start, cue.end, cue.lines) for cue in cut] == [(1.0, 8.0, ("mmmm",))]


def test_two_channels_interleave_by_start_and_may_overlap_each_other() -> None:
    cut = cues(
        transcript(
            utterance(0, ("hello", 0.0, 0.5), ("there", 0.6, 1.0)),
            utterance(1, ("hi", 0.8, 1.2)),
            utterance(0, ("how", 3.0, 3.3), ("are", 3.4, 3.6), ("you", 3.7, 4.0)),
            utterance(1, ("fine", 2.0, 2.6)),
            channels=2,
        )
    )
    assert cut == [
        Cue(0, 0.0, 1.0, ("hello there",)),
        Cue(1, 0.8, 1.2, ("hi",)),
        Cue(1, 2.0, 2.6, ("fine",)),
        Cue(0, 3.0, 4.0, ("how are you",)),
    ]
    _check_limits(cut)


def test_a_labelled_first_line_leaves_room_for_the_label() -> None:
    words = ["abcdefghi"] * 5  # 49 characters with spaces: 4 words fill 39
    mono = cues(transcript(steady(0, words, 0.0, 0.2)))
    stereo = cues(transcript(steady(1, words, 0.0, 0.2), channels=2))
    assert [len(line.split()) for line in mono[0].lines] == [4, 1]
    # `[2] ` takes four characters of the first line: 38 are left, three words.
    assert [len(line.split()) for line in stereo[0].lines] == [3, 2]


def test_the_shown_text_is_the_utterances_timed_by_its_words() -> None:
    cut = cues(
        transcript(
            utterance(
                0,
                ("good", 0.0, 0.4),
                ("uh", 0.5, 0.6),
                ("twenty", 0.7, 1.0),
                ("one", 1.0, 1.3),
                ("cats", 1.4, 1.7),
                text="Good, 21 cats!",
            ),
            utterance(0, ("later", 5.0, 5.5)),
        )
    )
    assert cut == [Cue(0, 0.0, 1.7, ("Good, 21 cats!",)), Cue(0, 5.0, 5.5, ("later",))]


def test_a_number_replacing_several_words_is_timed_by_all_of_them() -> None:
    cut = cues(
        transcript(
            utterance(
                0,
                ("twenty", 0.0, 0.5),
                ("one", 0.5, 0.9),
                ("ok", 2.5, 2.8),
                text="21 ok",
            )
        )
    )
    # `21` ends with `one`, so the pause before `ok` still starts a new cue.
    assert [(cue.start, cue.end, cue.lines) for cue in cut] == [
        (0.0, 0.9, ("21",)),
        (2.5, 2.8, ("ok",)),
    ]


def test_an_utterance_without_shown_text_shows_its_words() -> None:
    cut = cues(transcript(utterance(0, ("plain", 0.0, 0.5), ("words", 0.6, 0.9), text="")))
    assert [cue.lines for cue in cut] == [("plain words",)]


def test_an_utterance_without_words_has_nothing_to_time() -> None:
    assert cues(transcript(utterance(0, text="untimed text"))) == []
