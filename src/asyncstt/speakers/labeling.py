"""Speaker labels on a mono transcript: each utterance's channel becomes the speaker who said it.

The speaker heard first is 0, the other 1, the same across the whole file whichever slice an utterance came
from. An utterance takes the speaker of most of its windows' speech; one that a pause cut in parts with
different speakers is replaced by its parts, those of one speaker in a row joined again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from asyncstt.errors import InvalidArgument
from asyncstt.recognition import Utterance
from asyncstt.speakers.voices import Voices, VoiceWindow

#: What a request for labeling is told when the server lacks the extra.
INSTALL_HINT = "install it with: pip install 'asyncstt[speakers]'"


def labeling_available() -> bool:
    """Whether this installation can label speakers: the `speakers` extra's modules import."""
    try:
        import asyncstt.speakers.clustering  # noqa: F401
    except ImportError:
        return False
    return True


def require_mono(channels: int) -> None:
    """Speaker labeling tells the voices of one channel apart; SpeechKit refuses it for several channels."""
    if channels != 1:
        raise InvalidArgument(
            f"speakerLabeling works on mono audio only; this audio has {channels} channels "
            "(each channel is reported with its own channelTag without it)"
        )


class _Votes:
    """Each window's speaker, and which speaker most of a stretch's windows heard."""

    def __init__(self, windows: Sequence[VoiceWindow]) -> None:
        from asyncstt.speakers.clustering import two_voices  # scipy: only labeling needs the extra

        embeddings = np.array([window.embedding for window in windows], np.float32)
        self.seconds = np.array([max(window.seconds, 1e-3) for window in windows], np.float64)
        self.labels, _ = two_voices(embeddings, self.seconds)
        self.middles: NDArray[np.float64] = np.array(
            [(window.start + window.end) / 2 for window in windows], np.float64
        )

    def speaker(self, utterance: Utterance) -> int:
        inside = (self.middles >= utterance.start) & (self.middles <= utterance.end)
        if not inside.any():
            # Every part has its windows; none there means a slice saved without them: the nearest.
            middle = (utterance.start + utterance.end) / 2
            return int(self.labels[int(np.argmin(np.abs(self.middles - middle)))])
        votes = np.bincount(self.labels[inside], weights=self.seconds[inside], minlength=2)
        return int(np.argmax(votes))


def label_speakers(
    slices: Sequence[tuple[Sequence[Utterance], Voices]],
) -> tuple[list[Utterance], int]:
    """Every slice's utterances with their speaker as channel, ordered by start, and how many speakers."""
    windows = [window for _, voices in slices for window in voices.windows]
    if not windows:
        every = [replace(u, channel=0) for utterances, _ in slices for u in utterances]
        return sorted(every, key=_order), 1 if every else 0
    votes = _Votes(windows)
    labelled: list[Utterance] = []
    for utterances, voices in slices:
        cut = dict(voices.parts)
        for index, utterance in enumerate(utterances):
            parts = cut.get(index, (utterance,))
            speakers = [votes.speaker(part) for part in parts]
            if len(set(speakers)) == 1:
                labelled.append(replace(utterance, channel=speakers[0]))
            else:
                labelled += _runs(parts, speakers)
    labelled.sort(key=_order)
    first = labelled[0].channel
    numbered = [replace(u, channel=0 if u.channel == first else 1) for u in labelled]
    return numbered, len({u.channel for u in numbered})


def _runs(parts: Sequence[Utterance], speakers: Sequence[int]) -> list[Utterance]:
    """The parts with their speakers, consecutive parts of one speaker joined into one utterance."""
    runs: list[list[Utterance]] = []
    previous: int | None = None
    for part, speaker in zip(parts, speakers, strict=True):
        if speaker == previous:
            runs[-1].append(replace(part, channel=speaker))
        else:
            runs.append([replace(part, channel=speaker)])
        previous = speaker
    return [_joined(run) for run in runs]


def _joined(run: Sequence[Utterance]) -> Utterance:
    if len(run) == 1:
        return run[0]
    words = tuple(word for part in run for word in part.words)
    return replace(
        run[0],
        end=max(part.end for part in run),
        words=words,
        raw_text=" ".join(part.raw_text for part in run),
        text=" ".join(part.text for part in run),
        confidence=sum(part.confidence * len(part.words) for part in run) / len(words),
    )


def _order(utterance: Utterance) -> tuple[float, int, float]:
    return utterance.start, utterance.channel, utterance.end
