from __future__ import annotations

from asyncstt.pipeline.plan import SliceSpec
from asyncstt.pipeline.task import SliceResult
from asyncstt.recognition import Transcript, Utterance
from asyncstt.service.partial import recognised_prefix
from tests.factories import make_utterance


def said(channel: int, start: float, word: str) -> Utterance:
    return make_utterance(channel, [(word, start, start + 1.0)], word)


def stereo(
    index: int, channel: int, start: float, end: float | None, *words: Utterance
) -> SliceResult:
    decoded = 5.0 if end is None else end - start
    return SliceResult(SliceSpec(index, channel, start, end), words, decoded, channels=2)


def saved(*results: SliceResult) -> dict[int, bytes]:
    return {result.slice.index: result.to_bytes() for result in results}


def texts(transcript: Transcript) -> list[str]:
    return [utterance.text for utterance in transcript.utterances]


#: A stereo file cut at 10 s and 20 s: six slices, every channel of a stretch before the next stretch.
STEREO = [
    stereo(0, 0, 0.0, 10.0, said(0, 1.0, "a0"), said(0, 6.0, "a1")),
    stereo(1, 1, 0.0, 10.0, said(1, 3.0, "b0")),
    stereo(2, 0, 10.0, 20.0, said(0, 12.0, "a2"), said(0, 15.0, "a3")),
    stereo(3, 1, 10.0, 20.0, said(1, 13.0, "b1")),
    stereo(4, 0, 20.0, None, said(0, 21.0, "a4")),
    stereo(5, 1, 20.0, None, said(1, 22.0, "b2")),
]


def test_the_slices_saved_so_far_give_their_utterances_in_the_final_order() -> None:
    partial = recognised_prefix(saved(*STEREO[:4]))

    assert texts(partial) == ["a0", "b0", "a1", "a2", "b1", "a3"]
    assert (partial.channels, partial.duration_seconds) == (2, 20.0)


def test_a_stretch_saved_on_one_channel_only_waits_for_the_other() -> None:
    # Channel 1's "b1" at 13 s would come between "a2" and "a3": neither is given before it is known.
    partial = recognised_prefix(saved(*STEREO[:3]))

    assert texts(partial) == ["a0", "b0", "a1"]
    assert partial.duration_seconds == 10.0


def test_the_prefix_stops_at_the_first_slice_not_saved() -> None:
    partial = recognised_prefix(saved(*STEREO[:3], *STEREO[4:]))

    assert texts(partial) == ["a0", "b0", "a1"]


def test_every_slice_saved_is_the_whole_transcript() -> None:
    partial = recognised_prefix(saved(*STEREO))

    assert texts(partial) == ["a0", "b0", "a1", "a2", "b1", "a3", "a4", "b2"]
    assert partial.duration_seconds == 25.0


def test_channels_planned_apart_are_each_covered_up_to_their_last_saved_slice() -> None:
    # Each channel cut in its own pauses: channel 1's first slice runs to 14 s, channel 0's second from 9 s.
    apart = [
        stereo(0, 0, 0.0, 9.0, said(0, 1.0, "a0")),
        stereo(1, 0, 9.0, 18.0, said(0, 10.0, "a1"), said(0, 16.0, "a2")),
        stereo(2, 1, 0.0, 14.0, said(1, 5.0, "b0"), said(1, 12.0, "b1")),
        stereo(3, 1, 14.0, None, said(1, 17.0, "b2")),
    ]

    assert texts(recognised_prefix(saved(*apart[:2]))) == []
    assert texts(recognised_prefix(saved(*apart[:3]))) == ["a0", "b0", "a1", "b1"]
    assert texts(recognised_prefix(saved(*apart))) == ["a0", "b0", "a1", "b1", "a2", "b2"]


def test_a_channel_without_a_saved_slice_holds_everything_back() -> None:
    assert texts(recognised_prefix(saved(STEREO[0]))) == []


def test_slices_that_do_not_say_how_many_channels_the_file_has_give_nothing() -> None:
    unknown = SliceResult(SliceSpec(0, 0, 0.0, 10.0), (said(0, 1.0, "one"),), 10.0)

    assert texts(recognised_prefix(saved(unknown))) == []


def test_an_unreadable_slice_ends_the_prefix() -> None:
    mono = [
        SliceResult(SliceSpec(0, 0, 0.0, 10.0), (said(0, 1.0, "one"),), 10.0, channels=1),
        SliceResult(SliceSpec(1, 0, 10.0, 20.0), (said(0, 11.0, "two"),), 10.0, channels=1),
    ]
    broken = {**saved(*mono), 2: b"not a slice"}

    assert texts(recognised_prefix(broken)) == ["one", "two"]
    assert recognised_prefix(saved(mono[0])).duration_seconds == 10.0
    assert recognised_prefix({}) == Transcript()
