"""A file refused for its length says so truly: probing that counts packets stops at the limit, so a file
whose header gives no length is only known to be longer than the limit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asyncstt.audio.probe import probe
from asyncstt.errors import InvalidArgument
from asyncstt.recognition import AudioEncoding
from asyncstt.settings import LimitSettings
from tests.support.audio import encode
from tests.support.bad_audio import flac_claiming

RATE = 8000


def test_a_file_without_a_length_past_the_limit_is_not_given_the_limit_as_its_length(
    tmp_path: Path,
) -> None:
    noise = np.random.default_rng(7).normal(0, 3000, 40 * RATE)
    path = encode(tmp_path / "unknown-length.flac", [noise], RATE, "flac")
    flac_claiming(path, 0)  # STREAMINFO's 0: the length is unknown, so the packets are counted
    with pytest.raises(InvalidArgument) as refused:
        probe(path, AudioEncoding.AUTO, 16000, 1, LimitSettings(max_duration_seconds=10))
    assert refused.value.message == "the audio lasts more than the limit of 10 s"


def test_the_same_file_within_the_limit_is_measured_by_its_packets(tmp_path: Path) -> None:
    noise = np.random.default_rng(7).normal(0, 3000, 4 * RATE)
    path = encode(tmp_path / "unknown-length.flac", [noise], RATE, "flac")
    flac_claiming(path, 0)
    info = probe(path, AudioEncoding.AUTO, 16000, 1, LimitSettings(max_duration_seconds=10))
    assert info.duration_seconds == pytest.approx(4.0, abs=0.2)
