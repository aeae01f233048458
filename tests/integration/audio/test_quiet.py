"""Cut points found in silence when slices are not planned from speech: the quietest moment near a point, in
every format, with energy summed over channels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asyncstt.audio.decode import TARGET_RATE
from asyncstt.audio.probe import AudioInfo, probe
from asyncstt.audio.quiet import find_quiet_point
from asyncstt.recognition import AudioEncoding
from asyncstt.settings import LimitSettings
from tests.support.audio import (
    AudioFixtures,
    encode,
    read_wav_mono,
    resample,
    write_lpcm,
    write_wav,
)

pytestmark = pytest.mark.integration


def _info(path: Path, rate: int = 0, channels: int = 0) -> AudioInfo:
    declared = AudioEncoding.LINEAR16_PCM if rate else AudioEncoding.AUTO
    return probe(path, declared, rate, channels, LimitSettings())


@pytest.fixture(scope="module")
def pause_wav(audio_fixtures: AudioFixtures, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """jfk with one second of digital silence inserted at 5 s: speech, pause [5, 6), speech."""
    jfk = read_wav_mono(audio_fixtures.jfk_wav)
    cut = 5 * TARGET_RATE
    samples = np.concatenate([jfk[:cut], np.zeros(TARGET_RATE, np.float32), jfk[cut:]])
    return write_wav(tmp_path_factory.mktemp("pause") / "pause.wav", [samples], TARGET_RATE)


def _pause_in(path: Path, info: AudioInfo) -> float:
    return find_quiet_point(path, info, around=5.8, window=2.5)


def test_quiet_point_lands_in_the_middle_of_the_pause(pause_wav: Path) -> None:
    point = _pause_in(pause_wav, _info(pause_wav))
    assert point == pytest.approx(5.5, abs=0.06)


@pytest.mark.parametrize("codec", ["opus", "mp3", "flac", "lpcm"])
def test_quiet_point_in_every_format(pause_wav: Path, tmp_path: Path, codec: str) -> None:
    samples = read_wav_mono(pause_wav)
    if codec == "lpcm":
        path = write_lpcm(tmp_path / "pause.raw", [resample(samples, TARGET_RATE, 8000)])
        info = _info(path, 8000, 1)
    else:
        path = encode(tmp_path / f"pause.{codec}", [samples], TARGET_RATE, codec)  # type: ignore[arg-type]
        info = _info(path)
    assert 5.05 <= _pause_in(path, info) <= 5.95


def test_quiet_point_sums_energy_over_channels(pause_wav: Path, tmp_path: Path) -> None:
    left = read_wav_mono(pause_wav)
    right = np.zeros_like(left)
    noise = np.random.default_rng(7).uniform(-0.5, 0.5, TARGET_RATE).astype(np.float32)
    right[5 * TARGET_RATE : 6 * TARGET_RATE] = noise
    path = write_wav(tmp_path / "covered.wav", [left, right], TARGET_RATE)
    point = _pause_in(path, _info(path))
    assert not 5.0 <= point <= 6.0, "the left channel's pause is loud on the right"
    assert 3.3 <= point <= 8.3


def test_quiet_point_window_is_clipped_to_the_file(audio_fixtures: AudioFixtures) -> None:
    info = _info(audio_fixtures.jfk_wav)
    assert 0.0 <= find_quiet_point(audio_fixtures.jfk_wav, info, around=0.3, window=2.0) <= 2.3
    assert 8.5 <= find_quiet_point(audio_fixtures.jfk_wav, info, around=10.5, window=2.0) <= 11.0


def test_quiet_point_in_silence_stays_put(audio_fixtures: AudioFixtures) -> None:
    info = _info(audio_fixtures.silence_wav)
    assert find_quiet_point(
        audio_fixtures.silence_wav, info, around=2.5, window=1.0
    ) == pytest.approx(2.5, abs=0.01)
