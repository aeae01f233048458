"""Slices from one channel's voice activity: silence left out, cuts in pauses, slices that shrink at the end,
whatever pieces the probabilities come in."""

from __future__ import annotations

import numpy as np
import pytest

from asyncstt.audio.format import AudioFormat
from asyncstt.audio.probe import AudioInfo
from asyncstt.audio.voice import FRAME_SECONDS
from asyncstt.pipeline.plan import Planning
from asyncstt.pipeline.slicer import SKIP_PAUSE_SECONDS, ChannelSlicer, Stretch

SPEECH, QUIET = 0.9, 0.02


def frames(*parts: tuple[float, float]) -> np.ndarray:
    """Probabilities of (seconds, probability) parts, one per 32 ms frame."""
    return np.concatenate(
        [np.full(round(seconds / FRAME_SECONDS), p, dtype=np.float32) for seconds, p in parts]
    )


def seconds(frame: int | None) -> float | None:
    return None if frame is None else round(frame * FRAME_SECONDS, 3)


def slice_all(
    probabilities: np.ndarray,
    slice_seconds: float = 120.0,
    snap: float = 5.0,
    channels: int = 1,
    pieces: int = 1,
) -> list[Stretch]:
    """Everything the slicer hands on, the probabilities pushed in `pieces` parts; adjacent silences joined."""
    duration = len(probabilities) * FRAME_SECONDS
    info = AudioInfo(AudioFormat.WAV, channels, 16000, duration)
    slicer = ChannelSlicer(info, Planning(slice_seconds, snap, speech_only=True))
    for part in np.array_split(probabilities, pieces):
        slicer.push(part)
        slicer.flush_silence()
    slicer.end()
    joined: list[Stretch] = []
    for stretch in slicer.out:
        previous = joined[-1] if joined else None
        if previous and not previous.speech and not stretch.speech:
            joined[-1] = Stretch(previous.start, stretch.end, speech=False)
        else:
            joined.append(stretch)
    return joined


def speech(stretches: list[Stretch]) -> list[tuple[float | None, float | None]]:
    return [(seconds(s.start), seconds(s.end)) for s in stretches if s.speech]


def test_a_silent_channel_gives_no_slices() -> None:
    assert slice_all(frames((300.0, QUIET))) == [Stretch(0, None, speech=False)]


def test_a_long_silence_ends_the_slice_and_is_left_out() -> None:
    pause = SKIP_PAUSE_SECONDS + 10
    stretches = slice_all(frames((10.0, SPEECH), (pause, QUIET), (10.0, SPEECH)))
    # Each slice keeps 0.4 s of the silence next to its speech; the rest of the pause is nobody's.
    assert speech(stretches) == [
        (0.0, pytest.approx(10.4, abs=0.05)),
        (pytest.approx(10 + pause - 0.4, abs=0.05), None),
    ]
    silence = [s for s in stretches if not s.speech]
    assert len(silence) == 1
    assert (silence[0].start, silence[0].end) == (stretches[0].end, stretches[2].start)


def test_shorter_pauses_stay_inside_their_slice() -> None:
    turn = [(8.0, SPEECH), (8.0, QUIET)]
    stretches = slice_all(frames(*turn * 5))
    assert speech(stretches) == [(0.0, None)]


def test_a_slice_ends_in_the_longest_pause_near_its_nominal_length() -> None:
    # 37 s at 20 s slices: the first holds half a slice. 4 s phrases parted by 0.32 s pauses, but one pause of
    # 0.96 s after 9.76 s of speech and pauses.
    phrases = [(4.0, SPEECH), (0.32, QUIET)] * 2 + [(1.12, SPEECH), (0.96, QUIET)]
    stretches = slice_all(frames(*phrases, *[(4.0, SPEECH), (0.32, QUIET)] * 6), 20.0, 3.0)
    assert speech(stretches)[0][1] == pytest.approx(9.76 + 0.48)


def test_speech_without_a_pause_is_cut_where_it_is_least_speech_like() -> None:
    # 60 s at 20 s slices: the first holds a quarter of the work, 15 s, and the cut is sought up to 3 s before.
    probabilities = frames((60.0, SPEECH))
    dip = round(14.0 / FRAME_SECONDS)
    probabilities[dip] = 0.6
    assert speech(slice_all(probabilities, 20.0, 3.0))[0][1] == seconds(dip)


def test_slices_shrink_to_a_quarter_of_the_work_left_but_never_below_half_a_slice() -> None:
    phrases = [(4.6, SPEECH), (0.4, QUIET)] * 20  # 100 s
    spans = speech(slice_all(frames(*phrases), 40.0, 3.0))
    starts = [start or 0.0 for start, _ in spans]
    lengths = [
        (end if end is not None else 100.0) - start
        for start, (_, end) in zip(starts, spans, strict=True)
    ]
    # A quarter of 100 s, then half a slice until what is left holds less than two of those.
    assert lengths[:3] == [
        pytest.approx(25, abs=3),
        pytest.approx(20, abs=3),
        pytest.approx(20, abs=3),
    ]
    assert len(lengths) == 4, lengths
    assert 20 <= lengths[3] <= 40, lengths


def test_the_work_left_is_judged_by_the_share_of_the_channel_that_was_speech() -> None:
    # 400 s, half of it speech in 5 s turns (the pauses are long enough not to count as work): near the end
    # each slice holds a quarter of the speech left on the channel, not of the channel's time.
    stretches = slice_all(frames(*[(5.0, SPEECH), (5.0, QUIET)] * 40), 40.0, 3.0)
    for stretch in [s for s in stretches if s.speech][1:-1]:
        start = seconds(stretch.start) or 0.0
        assert stretch.voice is not None
        held = float((stretch.voice >= 0.5).sum()) * FRAME_SECONDS
        wanted = max(20.0, min(40.0, 0.25 * (400.0 - start) * 0.5))
        assert held == pytest.approx(wanted, abs=5.0), (start, held)


def test_a_slice_spans_at_most_three_nominal_lengths_however_sparse_its_speech() -> None:
    sparse = frames(*[(0.5, SPEECH), (14.5, QUIET)] * 20)  # 300 s, a word every 15 s
    spans = speech(slice_all(sparse, 10.0, 1.0))
    assert len(spans) > 1
    for start, end in spans:
        assert (300.0 if end is None else end) - (start or 0.0) <= 30.0 + FRAME_SECONDS


@pytest.mark.parametrize("pieces", [7, 64, 997])
def test_the_plan_is_the_same_whatever_pieces_the_audio_comes_in(pieces: int) -> None:
    rng = np.random.default_rng(11)
    probabilities = rng.choice([SPEECH, QUIET, 0.4], size=20_000, p=[0.5, 0.45, 0.05]).astype(
        np.float32
    )
    probabilities[5000:7500] = QUIET  # an 80 s silence to skip
    whole = slice_all(probabilities, 30.0, 2.0)
    assert slice_all(probabilities, 30.0, 2.0, pieces=pieces) == whole
    assert any(not s.speech for s in whole)


def test_a_short_channel_is_planned_once_it_is_read_to_its_end() -> None:
    info = AudioInfo(AudioFormat.WAV, 1, 16000, 40.0)
    slicer = ChannelSlicer(info, Planning(120.0, 5.0, speech_only=True))
    slicer.push(frames((2.4, QUIET), (0.032, SPEECH), (30.0, SPEECH)))
    slicer.flush_silence()
    assert [s for s in slicer.out if s.speech] == []
    slicer.push(frames((7.0, QUIET)))
    slicer.end()
    assert [s for s in slicer.out if s.speech] == [Stretch(63, None, speech=True, decided=1233)]


@pytest.mark.parametrize("pieces", [1, 13])
def test_every_slice_carries_the_probabilities_of_its_own_frames(pieces: int) -> None:
    rng = np.random.default_rng(5)
    probabilities = rng.choice([SPEECH, QUIET, 0.4], size=30_000, p=[0.5, 0.45, 0.05]).astype(
        np.float32
    )
    probabilities[9000:11500] = QUIET  # an 80 s silence to skip
    stretches = slice_all(probabilities, 60.0, 2.0, pieces=pieces)
    slices = [s for s in stretches if s.speech]
    assert len(slices) > 3
    assert any(not s.speech for s in stretches)
    for stretch in slices:
        assert stretch.voice is not None
        end = len(probabilities) if stretch.end is None else stretch.end
        np.testing.assert_array_equal(stretch.voice, probabilities[stretch.start : end])


def test_a_long_files_first_slice_holds_a_quarter_of_a_slice_so_the_workers_start_early() -> None:
    phrases = [(4.6, SPEECH), (0.4, QUIET)] * 120  # 600 s: five slices of 120 s
    spans = speech(slice_all(frames(*phrases), 120.0, 5.0))
    first_start, first_end = spans[0]
    assert (first_end or 0.0) - (first_start or 0.0) == pytest.approx(30, abs=5)
    second_start, second_end = spans[1]
    assert (second_end or 0.0) - (second_start or 0.0) == pytest.approx(120, abs=5)


def test_the_first_slice_holds_at_least_one_whisper_window_of_speech() -> None:
    phrases = [
        (4.6, SPEECH),
        (0.4, QUIET),
    ] * 40  # 200 s: five slices of 40 s, a quarter of one is 10 s
    spans = speech(slice_all(frames(*phrases), 40.0, 3.0))
    first_start, first_end = spans[0]
    assert (first_end or 0.0) - (first_start or 0.0) == pytest.approx(30, abs=3)
