"""SlicePipeline: the steps of an operation's run that read the audio or run the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from asyncstt.audio import probe as probing
from asyncstt.audio.probe import AudioInfo
from asyncstt.pipeline import plan, task
from asyncstt.pipeline.task import SliceJob, SliceResult
from asyncstt.recognition import AudioEncoding
from asyncstt.settings import LimitSettings

#: (file, declared encoding, LPCM sample rate, LPCM channels, limits) to what the file holds: `probe`.
Probe = Callable[[Path, AudioEncoding, int, int, LimitSettings], AudioInfo]
#: (file, what it holds, slice seconds, snap window) to the cut points: `plan_cut_points`.
CutPlanner = Callable[[Path, AudioInfo, float, float], list[float]]
#: One slice recognised, run on an executor worker: `recognise_slice`.
SliceFn = Callable[[SliceJob], SliceResult]


@dataclass(frozen=True)
class SlicePipeline:
    """How a run probes a file, finds its cut points and recognises a slice; the real ones unless told.

    The slices, their plan id and the assembly stay the run's own, so saved slices are reused on exactly the
    terms they always are.
    """

    probe: Probe = probing.probe
    plan_cut_points: CutPlanner = plan.plan_cut_points
    #: Travels to the executor's workers, so it must be a module-level function wherever they run elsewhere.
    recognise_slice: SliceFn = task.recognise_slice
