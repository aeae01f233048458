"""Speaker labels on utterances, the mono check and the extra's availability."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from numpy.typing import NDArray

from asyncstt.errors import InvalidArgument
from asyncstt.recognition import Utterance
from asyncstt.speakers.labeling import label_speakers, labeling_available, require_mono
from asyncstt.speakers.voices import VoiceWindow
from tests.factories import make_utterance


def said(start: float, end: float) -> Utterance:
    return make_utterance(0, [("word", start, end)], "word")


def windows_of(start: float, end: float, direction: NDArray[np.float64]) -> list[VoiceWindow]:
    rng = np.random.default_rng(round(start * 10))
    found = []
    at = start
    while at < end:
        vector = np.abs(direction + 0.02 * rng.standard_normal(len(direction)))
        vector /= np.linalg.norm(vector)
        found.append(VoiceWindow(at, min(end, at + 1.6), tuple(vector.tolist())))
        at += 0.8
    return found


def test_each_utterance_takes_its_voice_and_the_first_voice_is_0() -> None:
    a = np.zeros(256)
    a[:128] = 1.0
    b = np.zeros(256)
    b[128:] = 1.0
    utterances = [said(0.0, 4.0), said(5.0, 8.0), said(9.0, 12.0), said(13.0, 14.0)]
    windows = [
        *windows_of(0.0, 4.0, b),
        *windows_of(5.0, 8.0, a),
        *windows_of(9.0, 12.0, b),
        *windows_of(13.0, 14.0, a),
    ]
    labelled, speakers = label_speakers(utterances, windows)
    assert [u.channel for u in labelled] == [0, 1, 0, 1]
    assert speakers == 2
    assert [u.words for u in labelled] == [u.words for u in utterances]


def test_one_voice_labels_everything_0() -> None:
    a = np.ones(256)
    utterances = [said(0.0, 4.0), said(5.0, 8.0)]
    labelled, speakers = label_speakers(
        utterances, windows_of(0.0, 4.0, a) + windows_of(5.0, 8.0, a)
    )
    assert [u.channel for u in labelled] == [0, 0]
    assert speakers == 1


def test_an_utterance_without_windows_takes_the_nearest_one() -> None:
    a = np.zeros(256)
    a[:128] = 1.0
    b = np.zeros(256)
    b[128:] = 1.0
    utterances = [said(0.0, 4.0), said(5.0, 8.0), said(8.1, 8.2)]
    windows = [*windows_of(0.0, 4.0, a), *windows_of(5.0, 8.0, b)]
    labelled, _ = label_speakers(utterances, windows)
    assert [u.channel for u in labelled] == [0, 1, 1]


def test_nothing_to_label() -> None:
    assert label_speakers([], []) == ((), 0)


def test_labeling_needs_mono() -> None:
    require_mono(1)
    with pytest.raises(InvalidArgument, match="mono audio only; this audio has 2 channels"):
        require_mono(2)


def test_labeling_is_available_only_where_the_extra_imports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert labeling_available()
    monkeypatch.setitem(sys.modules, "scipy.cluster.hierarchy", None)
    monkeypatch.delitem(sys.modules, "asyncstt.speakers.clustering", raising=False)
    assert not labeling_available()
