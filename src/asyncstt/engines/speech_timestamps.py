"""Stretches of speech from speech probabilities already known, as faster-whisper's VAD finds them from audio.

The planner runs the Silero VAD over every channel once, frame by frame, and hands each slice the probabilities of
its frames. Running the model again in the worker cost a second pass of the same model (about 5 % of a worker's
time on a call) and ONNX Runtime's memory in every worker (about 42 MB). `speech_timestamps` is faster-whisper's
`get_speech_timestamps` with its model call taken out: the same thresholds, minimum silence, maximum length and
padding, so the same probabilities give the same stretches (tests/unit/engines/test_speech_timestamps.py holds
it to faster-whisper's own function).
"""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import VadOptions

from asyncstt.engines.base import SAMPLE_RATE, SpeechProbabilities

#: Samples of one frame the probabilities judge: 32 ms at 16 kHz.
FRAME_SAMPLES = 512
#: Silence that ends a stretch early when it reaches its maximum length, in ms: faster-whisper's constant.
_SILENCE_AT_MAX_SPEECH_MS = 98


def speech_timestamps(
    probabilities: SpeechProbabilities, samples: int, options: VadOptions
) -> list[tuple[int, int]]:
    """Sample ranges [start, end) of speech in `samples` samples whose frames have `probabilities`."""
    ms = SAMPLE_RATE / 1000
    pad = options.speech_pad_ms * ms
    min_speech = options.min_speech_duration_ms * ms
    max_speech = SAMPLE_RATE * options.max_speech_duration_s - FRAME_SAMPLES - 2 * pad
    min_silence = options.min_silence_duration_ms * ms
    min_silence_at_max = _SILENCE_AT_MAX_SPEECH_MS * ms
    threshold, neg_threshold = _thresholds(options)

    speeches: list[list[int]] = []
    start: int | None = None
    # The frame where a pause began, the end of the last pause long enough to end a stretch at its maximum
    # length, and where speech resumed after it.
    temp_end = prev_end = next_start = 0
    for i, probability in enumerate(probabilities[: samples // FRAME_SAMPLES + 1].tolist()):
        at = FRAME_SAMPLES * i
        if probability >= threshold and temp_end:
            temp_end = 0
            if next_start < prev_end:
                next_start = at
        if probability >= threshold and start is None:
            start = at
            continue
        if start is not None and at - start > max_speech:
            # Cut at the last pause long enough, speech going on from where it resumed; else right here.
            speeches.append([start, prev_end or at])
            start = next_start if prev_end and next_start >= prev_end else None
            prev_end = next_start = temp_end = 0
        if probability < neg_threshold and start is not None:
            if not temp_end:
                temp_end = at
            if at - temp_end > min_silence_at_max:
                prev_end = temp_end
            if at - temp_end < min_silence:
                continue
            if temp_end - start > min_speech:
                speeches.append([start, temp_end])
            start = None
            prev_end = next_start = temp_end = 0
    if start is not None and samples - start > min_speech:
        speeches.append([start, samples])
    return _padded(speeches, samples, pad)


def _thresholds(options: VadOptions) -> tuple[float, float]:
    """The probabilities that start and end speech, as float32: faster-whisper compares them so."""
    low = options.neg_threshold
    if low is None:
        low = max(options.threshold - 0.15, 0.01)
    return float(np.float32(options.threshold)), float(np.float32(low))


def _padded(speeches: list[list[int]], samples: int, pad: float) -> list[tuple[int, int]]:
    """Each stretch widened by the padding, or by half the pause when the pause is shorter than two paddings."""
    for i, speech in enumerate(speeches):
        if i == 0:
            speech[0] = int(max(0, speech[0] - pad))
        if i == len(speeches) - 1:
            speech[1] = int(min(samples, speech[1] + pad))
            continue
        following = speeches[i + 1]
        silence = following[0] - speech[1]
        if silence < 2 * pad:
            speech[1] += int(silence // 2)
            following[0] = int(max(0, following[0] - silence // 2))
        else:
            speech[1] = int(min(samples, speech[1] + pad))
            following[0] = int(max(0, following[0] - pad))
    return [(start, end) for start, end in speeches]
