from __future__ import annotations

import pytest

from asyncstt.audio.format import AudioFormat
from asyncstt.audio.probe import AudioInfo
from asyncstt.errors import InvalidArgument
from asyncstt.pipeline.assemble import assemble, check_decoded_limits, decoded_duration
from asyncstt.pipeline.plan import SliceSpec, plan_slices
from asyncstt.pipeline.task import SliceResult
from asyncstt.recognition import Utterance, Word
from asyncstt.settings import LimitSettings

STEREO = AudioInfo(format=AudioFormat.WAV, channels=2, sample_rate=16000, duration_seconds=250.0)


def utterance(channel: int, start: float, text: str) -> Utterance:
    word = Word(text, start, start + 0.5)
    return Utterance(
        channel=channel, start=start, end=start + 0.5, words=(word,), raw_text=text, text=text
    )


def test_slices_cover_every_channel_between_the_cuts_in_time_order() -> None:
    slices = plan_slices(STEREO, [100.5, 201.0])
    assert [(s.channel, s.start, s.end) for s in slices] == [
        (0, 0.0, 100.5),
        (1, 0.0, 100.5),
        (0, 100.5, 201.0),
        (1, 100.5, 201.0),
        (0, 201.0, None),
        (1, 201.0, None),
    ]
    assert [s.index for s in slices] == list(range(6))


def test_a_short_file_is_one_slice_per_channel() -> None:
    assert plan_slices(STEREO, []) == [SliceSpec(0, 0, 0.0, None), SliceSpec(1, 1, 0.0, None)]


def test_assembly_orders_by_start_then_channel_across_slices() -> None:
    results = [
        SliceResult(SliceSpec(2, 0, 100.0, None), (utterance(0, 120.0, "c"),), 150.0),
        SliceResult(
            SliceSpec(1, 1, 0.0, 100.0), (utterance(1, 5.0, "b"), utterance(1, 90.0, "d")), 100.0
        ),
        SliceResult(SliceSpec(0, 0, 0.0, 100.0), (utterance(0, 5.0, "a"),), 100.0),
        SliceResult(SliceSpec(3, 1, 100.0, None), (), 150.0),
    ]
    duration = decoded_duration(results, 2)
    transcript = assemble(results, STEREO, duration)
    assert [u.text for u in transcript.utterances] == ["a", "b", "d", "c"]
    assert transcript.channels == 2
    assert duration == 250.0


def test_decoded_audio_longer_than_the_limit_fails_even_when_the_header_said_less() -> None:
    limits = LimitSettings(max_duration_seconds=400)
    check_decoded_limits(200.0, STEREO, limits)
    with pytest.raises(InvalidArgument, match=r"once decoded .*limit is 6 min 40 s"):
        check_decoded_limits(201.0, STEREO, limits)


def test_decoded_audio_just_over_the_limit_never_reads_as_the_limit() -> None:
    limits = LimitSettings(max_duration_seconds=4 * 3600)
    with pytest.raises(InvalidArgument) as raised:
        check_decoded_limits(2 * 3600 + 0.3, STEREO, limits)
    assert raised.value.message.startswith("the audio lasts 4 h 1 s summed over 2 channel(s)")
    assert raised.value.message.endswith("the limit is 4 h")
