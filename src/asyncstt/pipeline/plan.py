"""What an operation's slices are planned from, what a plan yields, and the id that names a plan.

A plan is a stream: slices (and the silence no slice covers) come as the planner finds them, so the first
slices are recognised while the rest of the file is still being read (`pipeline/planner.py` chooses the planner).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from asyncstt import __version__
from asyncstt.audio.probe import AudioInfo
from asyncstt.audio.quiet import find_quiet_point
from asyncstt.audio.voice import Probabilities
from asyncstt.recognition import RecognitionSpec
from asyncstt.settings import EngineSettings, Settings

#: Length of a plan id: half a SHA-256, ample to tell an operation's few plans apart.
PLAN_ID_LENGTH = 32


@dataclass(frozen=True)
class SliceSpec:
    """One channel's stretch [start, end) in seconds; `end` None runs to the end of the file.

    `voice`: the speech probability of each of the slice's frames, as the planner heard them, so that the
    engine does not run the VAD again. It travels with the slice to its worker but is not part of what names
    the slice (a checkpoint saves the other four fields, and is valid for a slice equal in those).
    """

    index: int
    channel: int
    start: float
    end: float | None
    voice: Probabilities | None = field(default=None, compare=False, repr=False)

    def named(self) -> dict[str, int | float | None]:
        """The fields that name the slice, as a checkpoint saves them."""
        return {"index": self.index, "channel": self.channel, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Silence:
    """One channel's stretch [start, end) in seconds that no slice covers: the planner heard no speech there."""

    channel: int
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


#: What a planner yields, in the order it finds them: a slice to recognise, or silence left out.
PlanItem = SliceSpec | Silence


@dataclass(frozen=True)
class Planning:
    """Everything a plan depends on besides the audio: the same file and planning give the same slices."""

    #: Nominal length of one slice of one channel, in seconds.
    slice_seconds: float
    #: How far a cut may move to find a pause or silence, in seconds either way.
    snap_window_seconds: float
    #: Slices from the speech each channel holds; False: the whole file, cut at its quietest moments.
    speech_only: bool

    @classmethod
    def of(cls, settings: Settings) -> Planning:
        """Speech only when the engine is faster-whisper with its VAD on: that engine ignores what its VAD
        drops anyway, while the fake engine (and Whisper without VAD) hears every loud stretch."""
        engine = settings.engine
        return cls(
            slice_seconds=settings.execution.slice_seconds,
            snap_window_seconds=settings.execution.snap_window_seconds,
            speech_only=engine.kind == "faster-whisper" and engine.vad,
        )


def quiet_cut_points(
    path: Path, info: AudioInfo, slice_seconds: float, snap_window: float
) -> Iterator[float]:
    """Cut points shared by every channel, each moved to the quietest moment near its nominal place, in turn.

    The last slice is never shorter than half a slice: a short tail is folded into the slice before it.
    """
    previous = 0.0
    nominal = slice_seconds
    while nominal + slice_seconds / 2 < info.duration_seconds:
        window = min(snap_window, slice_seconds / 4)
        cut = find_quiet_point(path, info, nominal, window)
        if cut <= previous:
            cut = nominal
        yield cut
        previous = cut
        nominal = cut + slice_seconds


def slices_at_cuts(info: AudioInfo, cuts: Iterable[float]) -> Iterator[SliceSpec]:
    """Slices for every channel between consecutive cuts, each stretch's as soon as its end is known."""
    index = 0
    start = 0.0
    end: float | None
    for end in itertools.chain(cuts, [None]):
        for channel in range(info.channels):
            yield SliceSpec(index=index, channel=channel, start=start, end=end)
            index += 1
        if end is not None:
            start = end


def plan_slices(info: AudioInfo, cuts: list[float]) -> list[SliceSpec]:
    """Slices for every channel, ordered by start time so that early audio is recognised first."""
    return list(slices_at_cuts(info, cuts))


def plan_id(
    info: AudioInfo,
    file_bytes: int,
    planning: Planning,
    spec: RecognitionSpec,
    engine: EngineSettings,
) -> str:
    """Names everything a slice's result depends on, so that saved slices are reused only when valid.

    The audio (its facts and size: a link may point to another file by the next attempt), how it is planned
    (planning is deterministic, so the same audio and planning give the same slices), the request, the engine
    settings and this version of asyncstt (recognition and planning code change between releases).
    """
    facts = {
        "audio": {**asdict(info), "format": info.format.value, "bytes": file_bytes},
        "planning": asdict(planning),
        "spec": spec.to_json(),
        "engine": engine.model_dump(mode="json"),
        "version": __version__,
    }
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
    return digest[:PLAN_ID_LENGTH]
