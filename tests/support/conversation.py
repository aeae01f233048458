"""A mono conversation of two speakers taking turns, built from the shared recordings, and its scoring.

A LibriVox reader of *Sense and Sensibility* (pocketsphinx-testdata) and JFK's inaugural sentence
(examples/jfk.wav, cut at its pauses) take five turns, 0.8 s of silence between turns; a reader's turn joins
LibriVox utterances back to back, so that turns last up to 11 s and a slice of a few seconds ends inside one.
Who speaks when is known to the sample, so a labelled transcript can be scored word by word.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asyncstt.recognition import Utterance
from tests.support.audio import Samples, read_wav_mono
from tests.support.wer import LIBRIVOX

RATE = 16000
PAUSE_SECONDS = 0.8
#: JFK's sentence cut in its pauses (seconds into jfk.wav): "and so my fellow americans ask not what your
#: country can do for you" | "ask what you can do for your country".
JFK_PIECES = ((0.0, 7.8), (7.8, 11.0))
#: The LibriVox utterances of each of the reader's three turns.
READER_TURNS = (
    ("sense_and_sensibility_01_austen_64kb-0870", "sense_and_sensibility_01_austen_64kb-0880"),
    ("sense_and_sensibility_01_austen_64kb-0890", "sense_and_sensibility_01_austen_64kb-0920"),
    ("sense_and_sensibility_01_austen_64kb-0930",),
)
READER, JFK = 0, 1


@dataclass(frozen=True)
class Turn:
    """Seconds into the conversation, and who speaks (READER or JFK)."""

    start: float
    end: float
    speaker: int


@dataclass(frozen=True)
class Conversation:
    samples: Samples
    turns: tuple[Turn, ...]

    @property
    def seconds(self) -> float:
        return len(self.samples) / RATE


def reader_pieces() -> list[Samples]:
    """Every LibriVox utterance the reader says, in order."""
    return [read_wav_mono(LIBRIVOX / f"{name}.wav") for turn in READER_TURNS for name in turn]


def reader_turns() -> list[Samples]:
    return [
        np.concatenate([read_wav_mono(LIBRIVOX / f"{name}.wav") for name in turn])
        for turn in READER_TURNS
    ]


def jfk_pieces(examples: Path) -> list[Samples]:
    jfk = read_wav_mono(examples / "jfk.wav")
    return [jfk[round(start * RATE) : round(end * RATE)] for start, end in JFK_PIECES]


def conversation(examples: Path) -> Conversation:
    """Reader, JFK, reader, JFK, reader: 39 s."""
    reader, jfk = reader_turns(), jfk_pieces(examples)
    order: list[tuple[int, Samples]] = []
    for index, piece in enumerate(reader):
        order.append((READER, piece))
        if index < len(jfk):
            order.append((JFK, jfk[index]))
    return joined(order)


def joined(pieces: Sequence[tuple[int, Samples]]) -> Conversation:
    """The pieces one after another with PAUSE_SECONDS of silence between them."""
    pause = np.zeros(round(PAUSE_SECONDS * RATE), np.float32)
    parts: list[Samples] = []
    turns: list[Turn] = []
    at = 0
    for index, (speaker, piece) in enumerate(pieces):
        if index:
            parts.append(pause)
            at += len(pause)
        turns.append(Turn(at / RATE, (at + len(piece)) / RATE, speaker))
        parts.append(piece.astype(np.float32))
        at += len(piece)
    return Conversation(np.concatenate(parts), tuple(turns))


def speaker_at(turns: Iterable[Turn], seconds: float) -> int | None:
    """Who speaks at that moment; the nearest turn's speaker within a pause."""
    ordered = sorted(turns, key=lambda turn: turn.start)
    nearest = min(
        ordered, key=lambda turn: max(turn.start - seconds, seconds - turn.end, 0.0), default=None
    )
    return None if nearest is None else nearest.speaker


def word_accuracy(utterances: Iterable[Utterance], turns: Sequence[Turn]) -> float:
    """Share of words whose label (the utterance's channel) names their speaker, the labels' better matching
    of the two taken (labels are arbitrary: 0 is whoever the labeller heard first)."""
    pairs = [
        (utterance.channel, speaker_at(turns, (word.start + word.end) / 2))
        for utterance in utterances
        for word in utterance.words
    ]
    if not pairs:
        return 0.0
    same = sum(label == speaker for label, speaker in pairs)
    return max(same, len(pairs) - same) / len(pairs)
