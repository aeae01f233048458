"""Slices planned from speech: each channel's voice activity, read window by window, cut in that channel's pauses.

Every channel is judged on its own by the Silero VAD (`audio/voice.py`), so in a call where the parties take
turns each channel's slices hold its own speaker, a cut never falls in one party's words because the other
paused, and a channel that never speaks gives no slices at all. Pauses shorter than `SKIP_PAUSE_SECONDS` stay
inside their slice: the engine drops them before Whisper sees them, which costs far less than another slice
would. A longer silence ends the slice and is never decoded by a worker. Each slice carries its frames'
probabilities, so the engine finds its stretches of speech in them without running the model again.

A slice holds about `slice_seconds` of speech (pauses the engine drops do not count) and ends in the longest
pause within `snap_window_seconds` of that; a long file's first slice of each channel holds a quarter of that
(never under 30 s of speech, one Whisper window), so the workers start early. Near the end of the file slices
hold a quarter of the work left (never under half a slice), the work judged by the share of the channel so far
that was work, so that two workers finish a file together. The plan depends only on the samples and the
planning settings, not on how the file is read: saved slices stay valid.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asyncstt.audio.decode import TARGET_RATE
from asyncstt.audio.probe import AudioInfo
from asyncstt.audio.voice import FRAME_SAMPLES, FRAME_SECONDS, Probabilities, VoiceActivity
from asyncstt.audio.windows import windows
from asyncstt.pipeline.plan import PlanItem, Planning, Silence, SliceSpec

#: Audio read per planning step; slices are handed on after the step that decides them. The first step is
#: short, so that the first slices are decided after as little reading as their speech needs.
WINDOW_SECONDS = 30.0
FIRST_WINDOW_SECONDS = 3.0
#: Speech probability that starts speech, and the one under which it stops: those of faster-whisper's VAD.
THRESHOLD = 0.5
NEG_THRESHOLD = 0.35
#: Audio kept either side of speech, as the engine's VAD pads its speech chunks.
PAD_SECONDS = 0.4
#: Pauses this long are dropped by the engine's VAD (its minimum silence), so they do not count as work.
LONG_PAUSE_SECONDS = 2.0
#: Silence this long ends a slice and is skipped: a worker never decodes it. A shorter one costs a worker only
#: its decoding and the engine's VAD (about 0.3 % of real time), less than ending the slice there would: a
#: slice cut short pads its last Whisper window and batches fewer chunks.
SKIP_PAUSE_SECONDS = 60.0
#: A slice spans at most this many nominal slice lengths, pauses included, however little speech it holds.
MAX_SPAN_SLICES = 3
#: Near the end a slice holds at most this share of the work left, summed over channels: a quarter, so that the
#: last slices are small and two workers finish a file within a small slice of each other (half the work left
#: made each channel's last slice all of its rest, and one worker idled for up to a whole slice at the end)...
TAIL_SHARE = 0.25
#: ...and at least this share of a nominal slice: Whisper pads short audio to 30 s windows anyway.
MIN_SLICE_SHARE = 0.5
#: A channel's first slice holds this share of a nominal slice when the file holds plenty of work, so that the
#: workers start once a little of each channel is planned, not after a whole slice's speech has been read: on a
#: call, half of whose audio is the other party, a full first slice was decided only after about 4 minutes of
#: the file, 1.6 s of planning while both workers waited.
FIRST_SLICE_SHARE = 0.25
#: ...when the file holds at least this many nominal slices of work, summed over channels.
FIRST_SLICE_WORK = 4
#: ...but never less than this much speech, one Whisper window: on 3 s of jfk alone Whisper hears "And so am I
#: fellow Americans", on the whole of it "And so my fellow Americans".
FIRST_SLICE_MIN_SECONDS = 30.0


def _frames(seconds: float) -> int:
    return max(1, round(seconds / FRAME_SECONDS))


def _time(frame: int) -> float:
    return frame * FRAME_SAMPLES / TARGET_RATE


@dataclass(frozen=True)
class Stretch:
    """Frames [start, end) of one channel, to recognise or (`speech` False) left out; `end` None: to the end.

    `decided`: the frame whose probability settled it, which orders the slices of all channels the same way
    however the file is read. `voice`: a speech stretch's frame probabilities, for the engine.
    """

    start: int
    end: int | None
    speech: bool
    decided: int = 0
    voice: Probabilities | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class _Pause:
    """Frames [start, end) judged not speech inside a slice, and the work counted in the slice before it."""

    start: int
    end: int
    counted: int


class ChannelSlicer:
    """Turns one channel's frame probabilities into slices and skipped silence, in order, in `out`."""

    def __init__(self, info: AudioInfo, planning: Planning) -> None:
        self._left_seconds = info.duration_seconds
        self._channels = info.channels
        self._slice_seconds = planning.slice_seconds
        self._snap = _frames(planning.snap_window_seconds)
        self._min_slice = _frames(planning.slice_seconds * MIN_SLICE_SHARE)
        self._max_span = _frames(planning.slice_seconds * MAX_SPAN_SLICES)
        self._pad = _frames(PAD_SECONDS)
        self._long_pause = _frames(LONG_PAUSE_SECONDS)
        self._skip_pause = _frames(SKIP_PAUSE_SECONDS)
        self.out: list[Stretch] = []
        self._frame = 0
        self._speaking = False
        # While no slice is open: where the silence began, and its last frames (the next slice's leading pad).
        self._silent_from = 0
        self._recent: deque[tuple[float, bool]] = deque(maxlen=self._pad)
        # The open slice: its first frame, its frames so far, the work counted, its pauses, the current pause.
        self._opened = False
        self._start = 0
        self._taken: list[tuple[float, bool]] = []
        self._counted = 0
        # The work counted when each frame of `_taken` was taken.
        self._counted_by: list[int] = []
        self._heard = False
        self._pauses: list[_Pause] = []
        self._pause: int | None = None
        self._target: int | None = None
        self._first = True
        # Frames of work (speech and the pauses that count) in the slices handed on so far.
        self._worked = 0

    def push(self, probabilities: Probabilities) -> None:
        for probability in probabilities.tolist():
            self._speaking = probability >= (NEG_THRESHOLD if self._speaking else THRESHOLD)
            self._step(self._frame, probability, self._speaking)
            self._frame += 1

    def flush_silence(self) -> None:
        """Hand on the silence read so far, so that a long silence is counted as it is read."""
        until = self._frame - len(self._recent)
        if not self._opened and until > self._silent_from:
            self.out.append(Stretch(self._silent_from, until, speech=False))
            self._silent_from = until

    def end(self) -> None:
        """The channel ended: the open slice runs to its end, or the silence does."""
        if self._opened and self._heard:
            self.out.append(self._slice(None))
        else:
            start = self._start if self._opened else self._silent_from
            self.out.append(Stretch(start, None, speech=False))

    def _step(self, frame: int, probability: float, speech: bool) -> None:
        if not self._opened:
            if not speech:
                self._recent.append((probability, speech))
                return
            start = max(self._silent_from, frame - len(self._recent))
            lead = list(self._recent)[len(self._recent) - (frame - start) :]
            self._recent.clear()
            if start > self._silent_from:
                self.out.append(Stretch(self._silent_from, start, speech=False))
            self._begin(start)
            for offset, (earlier, judged) in enumerate(lead):
                self._take(start + offset, earlier, judged)
        self._take(frame, probability, speech)

    def _begin(self, start: int) -> None:
        self._opened = True
        self._start = start
        self._taken = []
        self._counted = 0
        self._counted_by = []
        self._heard = False
        self._pauses = []
        self._pause = None
        left = max(0.0, self._left_seconds - _time(start))
        # The work left, judged by the share of the channel so far that was work (all of it, before any slice).
        working = self._worked / start if self._worked else 1.0
        work_left = left * self._channels * working
        share = max(MIN_SLICE_SHARE, min(1.0, work_left * TAIL_SHARE / self._slice_seconds))
        if self._first and left * self._channels >= FIRST_SLICE_WORK * self._slice_seconds:
            share = max(FIRST_SLICE_SHARE, min(1.0, FIRST_SLICE_MIN_SECONDS / self._slice_seconds))
        self._first = False
        target = _frames(share * self._slice_seconds)
        # A slice that would leave less work than the smallest slice after it runs to the end instead.
        self._target = None if _frames(left * working) < target + self._min_slice else target

    def _slice(self, end: int | None) -> Stretch:
        """The open slice as a stretch of speech ending at `end` (None: the end of the channel)."""
        frames = len(self._taken) if end is None else end - self._start
        voice = np.array([probability for probability, _ in self._taken[:frames]], np.float32)
        self._worked += self._counted_by[frames - 1] if frames else 0
        return Stretch(self._start, end, speech=True, decided=self._frame, voice=voice)

    def _take(self, frame: int, probability: float, speech: bool) -> None:
        self._taken.append((probability, speech))
        if speech:
            if self._pause is not None:
                if self._heard:
                    self._pauses.append(_Pause(self._pause, frame, self._counted))
                if frame - self._pause < self._long_pause:
                    self._counted += frame - self._pause
                self._pause = None
            self._counted += 1
            self._heard = True
        elif self._pause is None:
            self._pause = frame
        self._counted_by.append(self._counted)
        if self._pause is not None and frame + 1 - self._pause >= self._skip_pause:
            self._close_in_silence(self._pause)
            return
        target = self._target
        if target is not None and self._counted >= target + self._snap:
            self._cut(frame, target)
        elif frame + 1 - self._start >= self._max_span:
            self._cut(frame, None)

    def _close_in_silence(self, pause: int) -> None:
        """A long silence from `pause`: the slice ends a pad after its speech, and the silence is left out."""
        start = self._start
        silent_from = start
        if self._heard:
            silent_from = pause + self._pad
            self.out.append(self._slice(silent_from))
        self._opened = False
        self._silent_from = silent_from
        self._recent = deque(self._taken[silent_from - start :], maxlen=self._pad)

    def _cut(self, frame: int, target: int | None) -> None:
        """End the open slice in its best pause and carry on from there with the frames after it.

        With a `target` (the slice holds enough speech): the longest pause near it; without (the slice spans too
        long): the longest pause in it.
        """
        start = self._start
        pauses = list(self._pauses)
        if self._pause is not None and self._heard:
            pauses.append(_Pause(self._pause, frame + 1, self._counted))
        if target is not None:
            low, high = target - self._snap, target + self._snap
            near = [pause for pause in pauses if low <= pause.counted <= high]
            best = max(
                near,
                key=lambda pause: (pause.end - pause.start, -abs(pause.counted - target)),
                default=None,
            )
        else:
            best = max(
                pauses, key=lambda pause: (pause.end - pause.start, pause.start), default=None
            )
        if best is not None:
            cut = (best.start + best.end) // 2
        else:
            # Speech without a pause: the least speech-like frame near the end.
            first = max(start + 1, frame + 1 - 2 * self._snap)
            probabilities = np.array([p for p, _ in self._taken[first - start :]])
            cut = first + int(np.argmin(probabilities))
        self.out.append(self._slice(cut))
        rest = self._taken[cut - start :]
        self._begin(cut)
        for offset, (probability, speech) in enumerate(rest):
            self._step(cut + offset, probability, speech)


def speech_slices(path: Path, info: AudioInfo, planning: Planning) -> Iterator[PlanItem]:
    """The slices of every channel's speech and the silence left out, window by window, in the order found.

    Indexes count the slices in that order. A slice that reaches the end of the file has `end` None.
    """
    slicers = [ChannelSlicer(info, planning) for _ in range(info.channels)]
    voices = [VoiceActivity() for _ in range(info.channels)]
    lengths = [0] * info.channels
    index = itertools.count()
    for window in windows(path, info, WINDOW_SECONDS, FIRST_WINDOW_SECONDS):
        for channel, samples in enumerate(window.channels):
            slicer = slicers[channel]
            lengths[channel] += len(samples)
            slicer.push(voices[channel].feed(samples))
            if window.last:
                slicer.push(voices[channel].finish())
                slicer.end()
            else:
                slicer.flush_silence()
        # Every channel has read the same stretch of time: slices ordered by the frame that decided them are in
        # the same order whatever the window length.
        found = sorted(
            (
                (stretch.decided, channel, n, stretch)
                for channel, slicer in enumerate(slicers)
                for n, stretch in enumerate(slicer.out)
            ),
            key=lambda entry: entry[:3],
        )
        for _, channel, _, stretch in found:
            yield _item(stretch, channel, lengths[channel] / TARGET_RATE, index)
        for slicer in slicers:
            slicer.out.clear()


def _item(stretch: Stretch, channel: int, length: float, index: Iterator[int]) -> PlanItem:
    start = min(_time(stretch.start), length)
    if stretch.speech:
        end = None if stretch.end is None else _time(stretch.end)
        return SliceSpec(
            index=next(index), channel=channel, start=start, end=end, voice=stretch.voice
        )
    end = length if stretch.end is None else min(_time(stretch.end), length)
    return Silence(channel=channel, start=start, end=end)
