"""Speaker labels on a mono transcript: each utterance's channel becomes the speaker who said it.

The speaker heard first is 0, the other 1, the same across the whole file whichever slice an utterance came
from. An utterance takes the speaker of most of its windows' speech.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from asyncstt.errors import InvalidArgument
from asyncstt.recognition import Utterance
from asyncstt.speakers.voices import VoiceWindow

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


def label_speakers(
    utterances: Sequence[Utterance], windows: Sequence[VoiceWindow]
) -> tuple[tuple[Utterance, ...], int]:
    """The utterances (in their order) with their speaker as channel, and how many speakers were heard."""
    from asyncstt.speakers.clustering import two_voices  # scipy: only labeling needs the extra

    if not utterances or not windows:
        return tuple(replace(u, channel=0) for u in utterances), 1 if utterances else 0
    embeddings = np.array([window.embedding for window in windows], np.float32)
    seconds = np.array([max(window.seconds, 1e-3) for window in windows], np.float64)
    labels, _ = two_voices(embeddings, seconds)
    middles = np.array([(window.start + window.end) / 2 for window in windows])
    speakers = [_speaker(u, middles, labels, seconds) for u in utterances]
    first = speakers[0]
    numbered = [0 if speaker == first else 1 for speaker in speakers]
    labelled = tuple(
        replace(u, channel=speaker) for u, speaker in zip(utterances, numbered, strict=True)
    )
    return labelled, len(set(numbered))


def _speaker(
    utterance: Utterance,
    middles: NDArray[np.float64],
    labels: NDArray[np.int64],
    seconds: NDArray[np.float64],
) -> int:
    inside = (middles >= utterance.start) & (middles <= utterance.end)
    if not inside.any():
        # A window always lies in its utterance; none there means a slice saved without them: the nearest.
        nearest = int(np.argmin(np.abs(middles - (utterance.start + utterance.end) / 2)))
        return int(labels[nearest])
    votes = np.bincount(labels[inside], weights=seconds[inside], minlength=2)
    return int(np.argmax(votes))
