"""The files bench/profile.py measures: each kind of audio builds a WAV of the channels it names."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from bench.profile import build


@pytest.mark.parametrize(("audio", "channels"), [("call", 2), ("continuous", 2), ("mono", 1)])
def test_each_kind_builds_a_wav_at_least_as_long_as_asked(
    tmp_path: Path, audio: str, channels: int
) -> None:
    with wave.open(str(build(tmp_path, audio, 20))) as built:
        assert built.getnchannels() == channels
        assert built.getframerate() == 16000
        assert built.getnframes() >= 20 * 16000
