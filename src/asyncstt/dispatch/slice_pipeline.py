"""SlicePipeline: the steps of an operation's run that read the audio or run the engine."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from asyncstt.audio import probe as probing
from asyncstt.audio.probe import AudioInfo
from asyncstt.pipeline import planner, task
from asyncstt.pipeline.plan import PlanItem, Planning
from asyncstt.pipeline.task import SliceJob, SliceResult
from asyncstt.recognition import AudioEncoding
from asyncstt.settings import LimitSettings

#: (file, declared encoding, LPCM sample rate, LPCM channels, limits) to what the file holds: `probe`.
Probe = Callable[[Path, AudioEncoding, int, int, LimitSettings], AudioInfo]
#: (file, what it holds, how to plan) to its slices and the silence left out, as they are found: `plan`.
Planner = Callable[[Path, AudioInfo, Planning], Iterable[PlanItem]]
#: One slice recognised, run on an executor worker: `recognise_slice`.
SliceFn = Callable[[SliceJob], SliceResult]


@dataclass(frozen=True)
class SlicePipeline:
    """How a run probes a file, plans its slices and recognises a slice; the real ones unless told.

    The slices, their plan id and the assembly stay the run's own, so saved slices are reused on exactly the
    terms they always are.
    """

    probe: Probe = probing.probe
    plan: Planner = planner.plan
    #: Travels to the executor's workers, so it must be a module-level function wherever they run elsewhere.
    recognise_slice: SliceFn = task.recognise_slice
