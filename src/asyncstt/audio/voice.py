"""Voice activity: the probability of speech in every 32 ms frame of one channel, read as a stream.

The Silero VAD model that faster-whisper ships, run frame by frame with its state carried from one call to the
next, so a channel fed in windows of any length gets exactly the probabilities of one pass over the whole of it
while only a window sits in memory.

Digital silence is nearly free: once the model has judged `HEARD_SILENT_FRAMES` frames of it in a row, the rest
of that silence is not run through the model (its frames have probability 0) and the model's state starts
afresh, so the speech after it is judged as at the start of a file. In a call recorded a channel per party,
each channel is digitally silent while the other party speaks.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from asyncstt.audio.decode import TARGET_RATE

#: Samples of one frame the model judges, at 16 kHz: 32 ms.
FRAME_SAMPLES = 512
FRAME_SECONDS = FRAME_SAMPLES / TARGET_RATE
# The model sees each frame with the last samples of the frame before it.
_CONTEXT_SAMPLES = 64
_STATE_SHAPE = (1, 1, 128)
_MODEL_FILE = "silero_vad_v6.onnx"
#: A frame (with the context the model sees of the frame before) whose samples all lie within this of zero, a few
#: steps of 16-bit audio, is digital silence: a muted line, not a quiet room.
SILENT_LEVEL = 4 / 32768
#: Frames of digital silence the model judges before the rest of it is skipped: half a second, so the fall of the
#: probability at the end of speech is the model's own.
HEARD_SILENT_FRAMES = 16

Probabilities = NDArray[np.float32]

if TYPE_CHECKING:
    import onnxruntime


@functools.cache
def _session() -> onnxruntime.InferenceSession:
    """One model per process, on one thread: the workers own the other cores.

    ONNX Runtime and faster-whisper are imported on first use, so a process that only describes the engine
    (an API process before it plans a file) does not load them.
    """
    import onnxruntime
    from faster_whisper.utils import get_assets_path

    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.enable_cpu_mem_arena = False
    options.log_severity_level = 4
    return onnxruntime.InferenceSession(
        str(Path(get_assets_path()) / _MODEL_FILE),
        providers=["CPUExecutionProvider"],
        sess_options=options,
    )


class VoiceActivity:
    """Speech probabilities of one channel's 16 kHz samples, fed in order in pieces of any length.

    `feed` answers one probability per whole frame it completes; `finish` answers the last, partial frame
    (padded with silence), as faster-whisper's VAD does at the end of its audio.
    """

    def __init__(self) -> None:
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(_CONTEXT_SAMPLES, dtype=np.float32)
        self._leftover = np.zeros(0, dtype=np.float32)
        # Frames of digital silence in a row up to the last frame fed.
        self._silent_run = 0

    def feed(self, samples: NDArray[np.float32]) -> Probabilities:
        joined = np.concatenate([self._leftover, samples]) if len(self._leftover) else samples
        whole = len(joined) // FRAME_SAMPLES * FRAME_SAMPLES
        self._leftover = joined[whole:].copy()
        return self._run(joined[:whole])

    def finish(self) -> Probabilities:
        if not len(self._leftover):
            return np.zeros(0, dtype=np.float32)
        tail = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        tail[: len(self._leftover)] = self._leftover
        self._leftover = np.zeros(0, dtype=np.float32)
        return self._run(tail)

    def _run(self, samples: NDArray[np.float32]) -> Probabilities:
        if not len(samples):
            return np.zeros(0, dtype=np.float32)
        frames = samples.reshape(-1, FRAME_SAMPLES).astype(np.float32, copy=False)
        before = np.concatenate([self._context[np.newaxis], frames[:-1, -_CONTEXT_SAMPLES:]])
        self._context = frames[-1, -_CONTEXT_SAMPLES:].copy()
        seen = np.concatenate([before, frames], axis=1)
        skipped = self._silent_runs(np.abs(seen).max(axis=1) <= SILENT_LEVEL) > HEARD_SILENT_FRAMES
        out = np.empty(len(seen), dtype=np.float32)
        bounds = [0, *(np.flatnonzero(np.diff(skipped)) + 1).tolist(), len(seen)]
        for begin, end in itertools.pairwise(bounds):
            if skipped[begin]:
                out[begin:end] = 0.0
                self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
                self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
                continue
            probabilities, self._h, self._c = _session().run(
                None, {"input": seen[begin:end], "h": self._h, "c": self._c}
            )
            out[begin:end] = np.asarray(probabilities, dtype=np.float32).reshape(-1)
        return out

    def _silent_runs(self, silent: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Each frame's place in its run of silent frames (0: not silent), runs carried on from the last call."""
        index = np.arange(len(silent))
        last_sound = np.maximum.accumulate(np.where(silent, -1, index))
        runs = np.where(last_sound < 0, index + 1 + self._silent_run, index - last_sound)
        self._silent_run = int(runs[-1])
        return runs
