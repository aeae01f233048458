"""Choosing how a file is planned: from the speech of each channel, or at quiet points across all channels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from asyncstt.audio.probe import AudioInfo
from asyncstt.pipeline.plan import PlanItem, Planning, quiet_cut_points, slices_at_cuts
from asyncstt.pipeline.slicer import speech_slices


def plan(path: Path, info: AudioInfo, planning: Planning) -> Iterator[PlanItem]:
    """The slices of a file (and the silence left out), as they are found."""
    if planning.speech_only:
        return speech_slices(path, info, planning)
    cuts = quiet_cut_points(path, info, planning.slice_seconds, planning.snap_window_seconds)
    return slices_at_cuts(info, cuts)
