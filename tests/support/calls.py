"""Stereo calls built from the shared recordings: two parties taking turns, each on a channel of its own.

Channel 0 says JFK's inaugural sentence in its three phrases (examples/jfk.wav), channel 1 reads the LibriVox
utterances of *Sense and Sensibility* (pocketsphinx-testdata); while one party speaks the other's channel is
digital silence, as in a recorded call. Where each party speaks is known to the sample, so tests can check
where slices were cut and what each channel says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support.audio import Samples, read_wav_mono, write_wav
from tests.support.wer import JFK_REFERENCE, LIBRIVOX, librivox_reference

RATE = 16000
#: JFK's sentence cut in its pauses, seconds into jfk.wav.
JFK_PHRASES = ((0.0, 4.8), (4.8, 7.8), (7.8, 11.0))
READER_PIECES = (
    "sense_and_sensibility_01_austen_64kb-0870",
    "sense_and_sensibility_01_austen_64kb-0880",
    "sense_and_sensibility_01_austen_64kb-0890",
)
#: Silence between one party's turn and the other's.
GAP_SECONDS = 0.5


@dataclass(frozen=True)
class Call:
    #: One array per channel, the same length.
    channels: tuple[Samples, Samples]
    #: (channel, start, end) seconds of every turn, in order.
    turns: tuple[tuple[int, float, float], ...]
    #: What each channel says, read from the recordings' transcriptions.
    references: tuple[str, str]

    @property
    def seconds(self) -> float:
        return len(self.channels[0]) / RATE

    def write(self, path: Path) -> Path:
        return write_wav(path, list(self.channels), RATE)

    def speaking(self, channel: int, seconds: float) -> bool:
        """Whether `channel` is in one of its turns at that moment."""
        return any(c == channel and start <= seconds < end for c, start, end in self.turns)


def call(examples: Path, rounds: int = 1) -> Call:
    """JFK's phrases and the reader's pieces taking turns, `rounds` times over (about 33 s a round)."""
    jfk = read_wav_mono(examples / "jfk.wav")
    phrases = [jfk[round(start * RATE) : round(end * RATE)] for start, end in JFK_PHRASES]
    pieces = [read_wav_mono(LIBRIVOX / f"{name}.wav") for name in READER_PIECES]
    gap = np.zeros(round(GAP_SECONDS * RATE), np.float32)
    left: list[Samples] = []
    right: list[Samples] = []
    turns: list[tuple[int, float, float]] = []
    at = 0
    for _ in range(rounds):
        for phrase, piece in zip(phrases, pieces, strict=True):
            for channel, speech in ((0, phrase), (1, piece)):
                quiet = np.zeros(len(speech), np.float32)
                left.append(speech if channel == 0 else quiet)
                right.append(quiet if channel == 0 else speech)
                turns.append((channel, at / RATE, (at + len(speech)) / RATE))
                left.append(gap)
                right.append(gap)
                at += len(speech) + len(gap)
    reader = " ".join(librivox_reference(name) for name in READER_PIECES)
    return Call(
        (np.concatenate(left), np.concatenate(right)),
        tuple(turns),
        (" ".join([JFK_REFERENCE] * rounds), " ".join([reader] * rounds)),
    )


def one_sided(examples: Path, rounds: int = 1) -> Call:
    """The same call with channel 1 silent throughout: only JFK's side was recorded."""
    whole = call(examples, rounds)
    left, right = whole.channels
    return Call(
        (left, np.zeros(len(right), np.float32)),
        tuple(turn for turn in whole.turns if turn[0] == 0),
        (whole.references[0], ""),
    )
