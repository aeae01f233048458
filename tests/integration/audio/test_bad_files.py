"""The bad-audio corpus through real probing and decoding: every file is refused as the caller's error with a
message about the file, and decoding never holds more than the probed duration, whatever a header claims."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from asyncstt.audio.decode import TARGET_RATE, decode_channel
from asyncstt.audio.format import AudioFormat
from asyncstt.audio.probe import AudioInfo, probe
from asyncstt.errors import InvalidArgument
from asyncstt.recognition import AudioEncoding
from asyncstt.settings import LimitSettings
from tests.support.audio import AudioFixtures, Codec, Samples, encode, read_wav_mono
from tests.support.bad_audio import (
    BadFile,
    bad_audio_corpus,
    flac_claiming,
    harmless_wav_oddities,
    mp3_claiming,
    ogg_claiming,
)

pytestmark = pytest.mark.integration

LIMITS = LimitSettings(max_duration_seconds=60, max_file_bytes=3 * 1024 * 1024)


@pytest.fixture(scope="module")
def speech(audio_fixtures: AudioFixtures) -> Samples:
    return read_wav_mono(audio_fixtures.jfk_wav)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, speech: Samples) -> list[BadFile]:
    return bad_audio_corpus(tmp_path_factory.mktemp("bad"), speech, LIMITS.max_duration_seconds)


def _recognise_whole(path: Path, limits: LimitSettings = LIMITS) -> Samples:
    """What a run does with a one-slice file: probe it, then decode its only slice to the end."""
    info = probe(path, AudioEncoding.MP3, 16000, 1, limits)
    return decode_channel(path, info, 0, 0.0, None)


def test_every_bad_file_is_refused_with_what_is_wrong_with_it(corpus: list[BadFile]) -> None:
    for case in corpus:
        started = time.monotonic()
        with pytest.raises(InvalidArgument) as refused:
            _recognise_whole(case.path)
        assert case.matches(refused.value.message), f"{case.name}: {refused.value.message}"
        assert time.monotonic() - started < 2.0, case.name


def test_odd_but_readable_wav_headers_decode(tmp_path: Path, speech: Samples) -> None:
    for path in harmless_wav_oddities(tmp_path, speech):
        assert len(_recognise_whole(path)) > 0, path.name


@pytest.mark.parametrize("codec", ["flac", "mp3", "opus"])
def test_a_header_understating_its_length_within_the_limits_gets_the_real_length(
    tmp_path: Path, speech: Samples, codec: Codec
) -> None:
    path = encode(tmp_path / f"lying.{codec}", [np.tile(speech, 4)], 16000, codec)
    if codec == "flac":
        flac_claiming(path, 16000)
    elif codec == "mp3":
        mp3_claiming(path, 28)
    else:
        ogg_claiming(path, 48312)
    info = probe(path, AudioEncoding.MP3, 16000, 1, LIMITS)
    assert info.duration_seconds == pytest.approx(44.0, abs=0.2)
    decoded = decode_channel(path, info, 0, 0.0, None)
    assert len(decoded) / TARGET_RATE == pytest.approx(44.0, abs=0.2)


def test_decoding_stops_just_past_the_duration_whatever_the_file_holds(tmp_path: Path) -> None:
    """Ten minutes of FLAC silence (about 100 KB) claiming one second, decoded as if probing had believed it:
    refused after a second and a half of audio, holding a few hundred kilobytes."""
    path = encode(tmp_path / "bomb.flac", [np.zeros(600 * 8000, np.float32)], 8000, "flac")
    flac_claiming(path, 8000)
    believed = AudioInfo(AudioFormat.FLAC, 1, 8000, 1.0)
    tracemalloc.start()
    try:
        with pytest.raises(
            InvalidArgument, match=r"goes on past 1\.50 s, but the file says it lasts 1\.00"
        ):
            decode_channel(path, believed, 0, 0.0, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024**2, peak
