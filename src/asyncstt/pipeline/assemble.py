"""Putting slice results back together into one transcript."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from asyncstt.audio.probe import AudioInfo, spoken_duration
from asyncstt.errors import InvalidArgument
from asyncstt.pipeline.task import SliceResult
from asyncstt.recognition import Transcript
from asyncstt.settings import LimitSettings
from asyncstt.speakers.labeling import label_speakers
from asyncstt.speakers.voices import Voices


def decoded_duration(
    results: Iterable[SliceResult], channels: int, silence: Sequence[float] = ()
) -> float:
    """Seconds of one channel that decoding really produced (the longest channel), with the `silence` of each
    channel that planning read but no slice covered."""
    per_channel = [*silence] if silence else [0.0] * channels
    for result in results:
        per_channel[result.slice.channel] += result.decoded_seconds
    return max(per_channel, default=0.0)


def check_decoded_limits(duration: float, info: AudioInfo, limits: LimitSettings) -> None:
    """The duration limit again, on what decoding produced rather than on what the header claimed."""
    total = duration * info.channels
    if total > limits.max_duration_seconds:
        raise InvalidArgument(
            f"the audio lasts {spoken_duration(total)} summed over {info.channels} channel(s) once "
            f"decoded (its header claimed {spoken_duration(info.duration_seconds * info.channels)}); "
            f"the limit is {spoken_duration(limits.max_duration_seconds)}"
        )


def assemble(results: Iterable[SliceResult], info: AudioInfo, duration: float) -> Transcript:
    """All utterances ordered by start time, then channel, as v2 chunks and v3 finals are emitted.

    Slices recognised for speaker labeling carry voice windows: the voices of the whole file are then told
    apart here, so that each speaker keeps one label across slices, and a labelled transcript's channels are
    its speakers.
    """
    results = list(results)
    if any(result.voices is not None for result in results):
        labelled, speakers = label_speakers(
            [(result.utterances, result.voices or Voices()) for result in results]
        )
        return Transcript(
            utterances=tuple(labelled), channels=max(speakers, 1), duration_seconds=duration
        )
    utterances = sorted(
        (u for result in results for u in result.utterances),
        key=lambda u: (u.start, u.channel, u.end),
    )
    return Transcript(
        utterances=tuple(utterances), channels=info.channels, duration_seconds=duration
    )
