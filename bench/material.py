"""The benchmarks' speech, built from the repository's recordings so that nothing large is committed.

Read speech (jfk.wav and the LibriVox utterances of pocketsphinx-testdata) in turn, each piece followed by a pause
whose length varies from piece to piece (seeded), so that a long file is not one clip tiled end to end: Whisper
repeats itself on exact tiles and falls back to sampling at higher temperatures, which would measure Whisper,
not the service. Every builder also returns what was said, for word error rates.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tests.support.audio import read_wav_mono
from tests.support.wer import JFK_REFERENCE, LIBRIVOX, librivox_reference

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RATE = 16000
Samples = NDArray[np.float32]


@dataclass(frozen=True)
class Piece:
    samples: Samples
    text: str


@dataclass(frozen=True)
class Channel:
    """One channel's samples at 16 kHz and the words spoken in it, in order."""

    samples: Samples
    text: str


@cache
def pieces() -> tuple[Piece, ...]:
    found = [Piece(read_wav_mono(EXAMPLES / "jfk.wav"), JFK_REFERENCE)]
    for path in sorted(LIBRIVOX.glob("*.wav")):
        found.append(Piece(read_wav_mono(path), librivox_reference(path.stem)))
    return tuple(found)


def build_channel(seconds: float, offset: int) -> Samples:
    """Continuous read speech of `seconds`, starting at piece `offset`, pauses of 0.5 s."""
    return continuous(seconds, offset).samples


def continuous(seconds: float, offset: int, seed: int = 0) -> Channel:
    """Read speech of about `seconds` (whole pieces only), pauses of 0.3-1.2 s between pieces."""
    rng = random.Random(seed * 1000 + offset)
    samples: list[Samples] = []
    texts: list[str] = []
    total, index = 0, offset
    material = pieces()
    while total < seconds * RATE:
        piece = material[index % len(material)]
        pause = np.zeros(int(rng.uniform(0.3, 1.2) * RATE), dtype=np.float32)
        samples += [piece.samples, pause]
        texts.append(piece.text)
        total += len(piece.samples) + len(pause)
        index += 1
    return Channel(np.concatenate(samples), " ".join(texts))


def continuous_stereo(seconds: float) -> tuple[Channel, Channel]:
    """Two channels of continuous read speech, each from other pieces with pauses of their own, padded to one
    length: the benchmarks' continuous stereo file."""
    return stereo(continuous(seconds, 0, seed=1), continuous(seconds, 3, seed=2))


def call(seconds: float, seed: int = 0) -> tuple[Channel, Channel]:
    """A call of about `seconds`: the two channels take turns, each silent while the other speaks.

    A turn is one to three pieces; a gap of 0.3-1.5 s separates turns. The channels hold different recordings
    (the left starts at the first piece, the right at the fourth).
    """
    rng = random.Random(seed)
    material = pieces()
    channels: list[list[Samples]] = [[], []]
    texts: list[list[str]] = [[], []]
    next_piece = [0, 3]
    total, speaker = 0, 0
    while total < seconds * RATE:
        turn: list[Samples] = []
        for _ in range(rng.randint(1, 3)):
            piece = material[next_piece[speaker] % len(material)]
            next_piece[speaker] += 1
            turn += [piece.samples, np.zeros(int(0.3 * RATE), dtype=np.float32)]
            texts[speaker].append(piece.text)
        gap = np.zeros(int(rng.uniform(0.3, 1.5) * RATE), dtype=np.float32)
        spoken = np.concatenate([*turn, gap])
        channels[speaker].append(spoken)
        channels[1 - speaker].append(np.zeros(len(spoken), dtype=np.float32))
        total += len(spoken)
        speaker = 1 - speaker
    left, right = (np.concatenate(parts) for parts in channels)
    return Channel(left, " ".join(texts[0])), Channel(right, " ".join(texts[1]))


def stereo(left: Channel, right: Channel) -> tuple[Channel, Channel]:
    """The two channels of one file: the shorter padded with silence to the length of the longer."""
    length = max(len(left.samples), len(right.samples))

    def padded(channel: Channel) -> Channel:
        return Channel(np.pad(channel.samples, (0, length - len(channel.samples))), channel.text)

    return padded(left), padded(right)
