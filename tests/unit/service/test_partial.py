from __future__ import annotations

from asyncstt.pipeline.plan import SliceSpec
from asyncstt.pipeline.task import SliceResult
from asyncstt.recognition import Transcript, Utterance
from asyncstt.service.partial import recognised_prefix
from tests.factories import make_utterance


def said(channel: int, start: float, word: str) -> Utterance:
    return make_utterance(channel, [(word, start, start + 1.0)], word)


def saved(*results: SliceResult) -> dict[int, bytes]:
    return {result.slice.index: result.to_bytes() for result in results}


def texts(transcript: Transcript) -> list[str]:
    return [utterance.text for utterance in transcript.utterances]


#: A stereo file cut at 10 s and 20 s: six slices, every channel of a stretch before the next stretch.
STEREO = [
    SliceResult(SliceSpec(0, 0, 0.0, 10.0), (said(0, 1.0, "a0"), said(0, 6.0, "a1")), 10.0),
    SliceResult(SliceSpec(1, 1, 0.0, 10.0), (said(1, 3.0, "b0"),), 10.0),
    SliceResult(SliceSpec(2, 0, 10.0, 20.0), (said(0, 12.0, "a2"), said(0, 15.0, "a3")), 10.0),
    SliceResult(SliceSpec(3, 1, 10.0, 20.0), (said(1, 13.0, "b1"),), 10.0),
    SliceResult(SliceSpec(4, 0, 20.0, None), (said(0, 21.0, "a4"),), 5.0),
    SliceResult(SliceSpec(5, 1, 20.0, None), (said(1, 22.0, "b2"),), 5.0),
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


def test_until_a_second_stretch_is_saved_the_channel_count_is_unknown_and_nothing_is_given() -> (
    None
):
    assert texts(recognised_prefix(saved(STEREO[0]))) == []
    assert texts(recognised_prefix(saved(*STEREO[:2]))) == []


def test_an_unreadable_slice_ends_the_prefix() -> None:
    mono = [
        SliceResult(SliceSpec(0, 0, 0.0, 10.0), (said(0, 1.0, "one"),), 10.0),
        SliceResult(SliceSpec(1, 0, 10.0, 20.0), (said(0, 11.0, "two"),), 10.0),
    ]
    broken = {**saved(*mono), 2: b"not a slice"}

    assert texts(recognised_prefix(broken)) == ["one", "two"]
    assert recognised_prefix({}) == Transcript()
