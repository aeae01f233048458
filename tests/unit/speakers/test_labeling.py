"""Speaker labels on utterances, the mono check and the extra's availability."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from numpy.typing import NDArray

from asyncstt.errors import InvalidArgument
from asyncstt.recognition import Utterance
from asyncstt.speakers.labeling import label_speakers, labeling_available, require_mono
from asyncstt.speakers.voices import Voices, VoiceWindow
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


A = np.concatenate([np.ones(128), np.zeros(128)])
B = np.concatenate([np.zeros(128), np.ones(128)])


def test_each_utterance_takes_its_voice_and_the_first_voice_is_0() -> None:
    first = [said(0.0, 4.0), said(9.0, 12.0)]
    second = [said(5.0, 8.0), said(13.0, 14.0)]
    slices = [
        (first, Voices((*windows_of(0.0, 4.0, B), *windows_of(9.0, 12.0, B)))),
        (second, Voices((*windows_of(5.0, 8.0, A), *windows_of(13.0, 14.0, A)))),
    ]
    labelled, speakers = label_speakers(slices)
    assert [(u.start, u.channel) for u in labelled] == [(0.0, 0), (5.0, 1), (9.0, 0), (13.0, 1)]
    assert speakers == 2


def test_one_voice_labels_everything_0() -> None:
    utterances = [said(0.0, 4.0), said(5.0, 8.0)]
    voices = Voices((*windows_of(0.0, 4.0, A), *windows_of(5.0, 8.0, A)))
    labelled, speakers = label_speakers([(utterances, voices)])
    assert [u.channel for u in labelled] == [0, 0]
    assert speakers == 1


def test_an_utterance_cut_by_a_pause_with_two_voices_is_replaced_by_its_parts() -> None:
    parts = (
        make_utterance(0, [("ask", 0.0, 1.5), ("not", 1.5, 3.0)], "ask not"),
        make_utterance(0, [("he", 3.0, 4.0), ("was", 4.0, 6.0)], "he was"),
        make_utterance(0, [("not", 6.0, 8.0)], "not"),
    )
    whole = make_utterance(0, [(w.text, w.start, w.end) for p in parts for w in p.words], "x")
    voices = Voices(
        (*windows_of(0.0, 3.0, A), *windows_of(3.0, 8.0, B), *windows_of(9.0, 12.0, A)),
        ((0, parts),),
    )
    labelled, speakers = label_speakers([([whole, said(9.0, 12.0)], voices)])
    assert [(u.text, u.channel) for u in labelled] == [
        ("ask not", 0),
        ("he was not", 1),
        ("word", 0),
    ]
    assert labelled[1].raw_text == "he was not"
    assert (labelled[1].start, labelled[1].end) == (3.0, 8.0)
    assert speakers == 2


def test_an_utterance_whose_parts_share_a_voice_stays_whole() -> None:
    parts = (said(0.0, 3.0), said(3.0, 6.0))
    whole = make_utterance(0, [("word", 0.0, 3.0), ("word", 3.0, 6.0)], "the whole text")
    voices = Voices((*windows_of(0.0, 6.0, A), *windows_of(7.0, 10.0, B)), ((0, parts),))
    labelled, _ = label_speakers([([whole, said(7.0, 10.0)], voices)])
    assert [(u.text, u.channel) for u in labelled] == [("the whole text", 0), ("word", 1)]


def test_an_utterance_without_windows_takes_the_nearest_one() -> None:
    utterances = [said(0.0, 4.0), said(5.0, 8.0), said(8.1, 8.2)]
    voices = Voices((*windows_of(0.0, 4.0, A), *windows_of(5.0, 8.0, B)))
    labelled, _ = label_speakers([(utterances, voices)])
    assert [u.channel for u in labelled] == [0, 1, 1]


def test_nothing_heard_labels_every_utterance_0() -> None:
    assert label_speakers([]) == ([], 0)
    labelled, speakers = label_speakers([([said(0.0, 1.0)], Voices())])
    assert [u.channel for u in labelled] == [0]
    assert speakers == 1


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
