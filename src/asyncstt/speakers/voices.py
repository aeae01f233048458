"""The voice windows of a slice: stretches of recognised speech, each with its voice embedding.

Made on the worker that recognised the slice, which has its samples; clustered when the slices are assembled,
so that every slice's speakers get the same labels. Windows lie within the parts that the audio's pauses cut
each utterance into (`turns.py`), so that no window hears both sides of a turn change that has a pause.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from asyncstt.recognition import Transcript, Utterance
from asyncstt.speakers.encoder import WINDOW_SECONDS, SpeakerEncoder
from asyncstt.speakers.mel import SAMPLE_RATE

#: Windows of a long utterance start this often: each second of speech is heard by two windows.
HOP_SECONDS = WINDOW_SECONDS / 2
#: A shorter utterance ("yes") is heard with this much of the audio around it, centred on it.
SHORTEST_SECONDS = 0.8


@dataclass(frozen=True)
class VoiceWindow:
    """One stretch of speech, seconds from the start of the file, and its unit-length voice embedding.

    The embedding's values are float16's, as a checkpoint keeps them, so that a slice read back from its
    checkpoint labels exactly as it did when it was recognised.
    """

    start: float
    end: float
    embedding: tuple[float, ...]

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, the embedding as base64 of float16 (512 bytes): checkpoints stay small."""
        packed = base64.b64encode(np.array(self.embedding, "<f2").tobytes()).decode()
        return {"start": self.start, "end": self.end, "embedding": packed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VoiceWindow:
        raw = np.frombuffer(base64.b64decode(data["embedding"]), "<f2")
        return cls(data["start"], data["end"], tuple(raw.astype(float).tolist()))


@dataclass(frozen=True)
class Voices:
    """What a slice recognised for speaker labeling carries besides its utterances."""

    windows: tuple[VoiceWindow, ...] = ()
    #: (index into the slice's utterances, its parts) for each utterance that a pause cuts in parts; each part
    #: is labelled on its own, and the utterance stays whole when they all get one speaker.
    parts: tuple[tuple[int, tuple[Utterance, ...]], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "windows": [window.to_dict() for window in self.windows],
            "parts": [
                [index, Transcript(utterances=parts).to_json()] for index, parts in self.parts
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Voices:
        return cls(
            windows=tuple(VoiceWindow.from_dict(item) for item in data["windows"]),
            parts=tuple(
                (index, Transcript.from_json(parts).utterances) for index, parts in data["parts"]
            ),
        )


def spans(
    utterances: Iterable[Utterance], offset: float, length: float
) -> list[tuple[float, float]]:
    """(start, end) of each window, seconds from `offset`, within [0, `length`): 1.6 s windows every 0.8 s
    over each utterance, the last one ending with it; a short utterance gets one window."""
    windows: list[tuple[float, float]] = []
    for utterance in utterances:
        start = max(0.0, utterance.start - offset)
        end = min(length, utterance.end - offset)
        if end - start < SHORTEST_SECONDS:
            middle = (start + end) / 2
            start = max(0.0, middle - SHORTEST_SECONDS / 2)
            end = min(length, start + SHORTEST_SECONDS)
        if end <= start:
            continue
        if end - start <= WINDOW_SECONDS:
            windows.append((start, end))
            continue
        count = int(np.ceil((end - start - WINDOW_SECONDS) / HOP_SECONDS)) + 1
        step = (end - start - WINDOW_SECONDS) / (count - 1)
        windows += [(start + i * step, start + i * step + WINDOW_SECONDS) for i in range(count)]
    return windows


def hear_voices(
    samples: NDArray[np.float32],
    offset: float,
    parts: Sequence[Sequence[Utterance]],
    encoder: SpeakerEncoder,
) -> Voices:
    """The voices of one slice: `parts[i]` are the parts of the slice's utterance i (itself when uncut), heard
    in `samples` (16 kHz, starting `offset` s into the file)."""
    pieces = [part for utterance_parts in parts for part in utterance_parts]
    cut = tuple((index, tuple(each)) for index, each in enumerate(parts) if len(each) > 1)
    return Voices(voice_windows(samples, offset, pieces, encoder), cut)


def voice_windows(
    samples: NDArray[np.float32],
    offset: float,
    utterances: Sequence[Utterance],
    encoder: SpeakerEncoder,
) -> tuple[VoiceWindow, ...]:
    """The voice windows of the utterances recognised in `samples` (16 kHz, starting `offset` s into the file)."""
    found = spans(utterances, offset, len(samples) / SAMPLE_RATE)
    if not found:
        return ()
    pieces = [
        samples[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)] for start, end in found
    ]
    embeddings = encoder.embed(pieces).astype(np.float16).astype(float)
    return tuple(
        VoiceWindow(round(offset + start, 3), round(offset + end, 3), tuple(embedding.tolist()))
        for (start, end), embedding in zip(found, embeddings, strict=True)
    )
