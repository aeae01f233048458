"""Cutting a file into time slices per channel, with cut points moved to silence."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from asyncstt import __version__
from asyncstt.audio.decode import find_quiet_point
from asyncstt.audio.probe import AudioInfo
from asyncstt.recognition import RecognitionSpec
from asyncstt.settings import EngineSettings

#: Length of a plan id: half a SHA-256, ample to tell an operation's few plans apart.
PLAN_ID_LENGTH = 32


@dataclass(frozen=True)
class SliceSpec:
    """One channel's stretch [start, end) in seconds; `end` None runs to the end of the file."""

    index: int
    channel: int
    start: float
    end: float | None


def plan_cut_points(
    path: Path, info: AudioInfo, slice_seconds: float, snap_window: float
) -> list[float]:
    """Cut points shared by every channel, each moved to the quietest moment near its nominal place.

    The last slice is never shorter than half a slice: a short tail is folded into the slice before it.
    """
    cuts: list[float] = []
    nominal = slice_seconds
    while nominal + slice_seconds / 2 < info.duration_seconds:
        window = min(snap_window, slice_seconds / 4)
        cut = find_quiet_point(path, info, nominal, window)
        if cut <= (cuts[-1] if cuts else 0.0):
            cut = nominal
        cuts.append(cut)
        nominal = cut + slice_seconds
    return cuts


def plan_slices(info: AudioInfo, cuts: list[float]) -> list[SliceSpec]:
    """Slices for every channel, ordered by start time so that early audio is recognised first."""
    bounds: list[tuple[float, float | None]] = list(zip([0.0, *cuts], [*cuts, None], strict=True))
    slices: list[SliceSpec] = []
    for start, end in bounds:
        for channel in range(info.channels):
            slices.append(SliceSpec(index=len(slices), channel=channel, start=start, end=end))
    return slices


def plan_id(
    info: AudioInfo,
    file_bytes: int,
    cuts: list[float],
    spec: RecognitionSpec,
    engine: EngineSettings,
) -> str:
    """Names everything a slice's result depends on, so that saved slices are reused only when valid.

    The audio (its facts and size: a link may point to another file by the next attempt), the cut points, the
    request, the engine settings and this version of asyncstt (recognition code changes between releases).
    """
    facts = {
        "audio": {**asdict(info), "format": info.format.value, "bytes": file_bytes},
        "cuts": cuts,
        "spec": spec.to_json(),
        "engine": engine.model_dump(mode="json"),
        "version": __version__,
    }
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
    return digest[:PLAN_ID_LENGTH]
