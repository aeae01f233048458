from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from av.audio.frame import AudioFrame

from asyncstt.audio.format import AudioFormat
from asyncstt.audio.probe import AudioInfo, probe
from asyncstt.errors import InvalidArgument
from asyncstt.recognition import AudioEncoding
from asyncstt.settings import LimitSettings
from tests.support.audio import AudioFixtures, read_wav_mono, to_int16, write_lpcm, write_wav

pytestmark = pytest.mark.integration

LIMITS = LimitSettings()
JFK_SECONDS = 11.0


def _probe(
    path: Path,
    declared: AudioEncoding = AudioEncoding.AUTO,
    rate: int = 16000,
    channels: int = 1,
    limits: LimitSettings = LIMITS,
) -> AudioInfo:
    return probe(path, declared, rate, channels, limits)


@pytest.mark.parametrize(
    ("name", "declared", "rate", "channels", "expected"),
    [
        ("jfk_wav", AudioEncoding.LINEAR16_PCM, 48000, 1, (AudioFormat.WAV, 1, 16000)),
        ("stereo_wav", AudioEncoding.AUTO, 0, 0, (AudioFormat.WAV, 2, 16000)),
        ("jfk_ogg", AudioEncoding.OGG_OPUS, 0, 0, (AudioFormat.OGG, 1, 48000)),
        ("jfk_ogg", AudioEncoding.MP3, 0, 0, (AudioFormat.OGG, 1, 48000)),
        ("stereo_ogg", AudioEncoding.OGG_OPUS, 48000, 1, (AudioFormat.OGG, 2, 48000)),
        ("jfk_mp3", AudioEncoding.MP3, 0, 0, (AudioFormat.MP3, 1, 16000)),
        ("jfk_mp3", AudioEncoding.LINEAR16_PCM, 16000, 1, (AudioFormat.MP3, 1, 16000)),
        ("jfk_flac", AudioEncoding.AUTO, 0, 0, (AudioFormat.FLAC, 1, 16000)),
        ("jfk_lpcm_8k", AudioEncoding.LINEAR16_PCM, 8000, 1, (AudioFormat.LPCM, 1, 8000)),
        ("jfk_lpcm_48k_stereo", AudioEncoding.LINEAR16_PCM, 48000, 2, (AudioFormat.LPCM, 2, 48000)),
    ],
)
def test_every_format_is_probed(
    audio_fixtures: AudioFixtures,
    name: str,
    declared: AudioEncoding,
    rate: int,
    channels: int,
    expected: tuple[AudioFormat, int, int],
) -> None:
    info = _probe(getattr(audio_fixtures, name), declared, rate, channels)
    assert (info.format, info.channels, info.sample_rate) == expected
    assert info.duration_seconds == pytest.approx(JFK_SECONDS, abs=0.02)


def test_lpcm_duration_comes_from_the_size(audio_fixtures: AudioFixtures) -> None:
    info = _probe(audio_fixtures.jfk_lpcm_48k_stereo, AudioEncoding.LINEAR16_PCM, 48000, 2)
    assert info.duration_seconds == audio_fixtures.jfk_lpcm_48k_stereo.stat().st_size / (
        2 * 2 * 48000
    )


def test_the_same_lpcm_declared_mono_is_twice_as_long(audio_fixtures: AudioFixtures) -> None:
    info = _probe(audio_fixtures.jfk_lpcm_48k_stereo, AudioEncoding.LINEAR16_PCM, 48000, 1)
    assert info.channels == 1
    assert info.duration_seconds == pytest.approx(2 * JFK_SECONDS, abs=0.001)


def _vbr_mp3_without_length_tag(path: Path, samples: np.ndarray) -> Path:
    """VBR MP3 with no Xing/Info frame: FFmpeg can only guess its duration from the first bit rate."""
    with av.open(str(path), "w", format="mp3", options={"write_xing": "0"}) as container:
        stream = container.add_stream("libmp3lame", rate=16000, layout="mono")
        stream.codec_context.qscale = True  # variable bit rate
        resampler = av.AudioResampler(format=stream.format, layout="mono", rate=16000)
        frame = AudioFrame.from_ndarray(to_int16(samples)[np.newaxis], format="s16", layout="mono")
        frame.sample_rate = 16000
        for converted in resampler.resample(frame):
            container.mux(stream.encode(converted))
        container.mux(stream.encode(None))
    return path


def test_vbr_mp3_without_a_length_tag_is_counted(
    audio_fixtures: AudioFixtures, tmp_path: Path
) -> None:
    path = _vbr_mp3_without_length_tag(tmp_path / "vbr.mp3", read_wav_mono(audio_fixtures.jfk_wav))
    with av.open(str(path)) as container:
        guessed = container.duration / av.time_base if container.duration else 0.0
        decoded = sum(frame.samples for frame in container.decode(audio=0)) / 16000
    assert abs(guessed - decoded) > 0.2, (
        "the header guess should be wrong for this test to mean anything"
    )
    assert _probe(path, AudioEncoding.MP3).duration_seconds == pytest.approx(decoded, abs=0.001)


def test_streamed_wav_without_sizes_gets_its_real_duration(
    audio_fixtures: AudioFixtures, tmp_path: Path
) -> None:
    data = bytearray(audio_fixtures.stereo_wav.read_bytes())
    chunk = data.find(b"data")
    data[4:8] = data[chunk + 4 : chunk + 8] = b"\xff\xff\xff\xff"
    path = tmp_path / "streamed.wav"
    path.write_bytes(data)
    info = _probe(path)
    assert info.channels == 2
    assert info.duration_seconds == pytest.approx(JFK_SECONDS, abs=0.001)


def test_silence_is_audio(audio_fixtures: AudioFixtures) -> None:
    info = _probe(audio_fixtures.silence_wav, AudioEncoding.LINEAR16_PCM)
    assert (info.format, info.duration_seconds) == (AudioFormat.WAV, 5.0)


def test_three_channels_are_refused(audio_fixtures: AudioFixtures) -> None:
    with pytest.raises(
        InvalidArgument, match=r"^the audio has 3 channels; at most 2 are supported$"
    ):
        _probe(audio_fixtures.three_channel_wav, AudioEncoding.LINEAR16_PCM)


def test_three_declared_lpcm_channels_are_refused(
    audio_fixtures: AudioFixtures, tmp_path: Path
) -> None:
    path = write_lpcm(tmp_path / "three.raw", [np.zeros(4800, np.float32)] * 3)
    with pytest.raises(InvalidArgument, match="3 channels; at most 2"):
        _probe(path, AudioEncoding.LINEAR16_PCM, 48000, 3)


def test_duration_limit_is_summed_over_channels(audio_fixtures: AudioFixtures) -> None:
    limits = LimitSettings(max_duration_seconds=20)
    assert _probe(audio_fixtures.jfk_wav, limits=limits).duration_seconds == JFK_SECONDS
    with pytest.raises(
        InvalidArgument, match=r"^the audio lasts 22 s summed over 2 channels; the limit is 20 s$"
    ):
        _probe(audio_fixtures.stereo_wav, limits=limits)
    with pytest.raises(
        InvalidArgument, match=r"^the audio lasts 22(\.\d)? s summed over 2 channels"
    ):
        _probe(audio_fixtures.stereo_ogg, AudioEncoding.OGG_OPUS, limits=limits)


@pytest.mark.parametrize("name", ["jfk_wav", "jfk_mp3", "jfk_flac", "jfk_ogg", "jfk_lpcm_8k"])
def test_duration_limit_holds_for_every_format(audio_fixtures: AudioFixtures, name: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^the audio lasts 11(\.\d)? s; the limit is 10 s$"):
        _probe(
            getattr(audio_fixtures, name),
            AudioEncoding.LINEAR16_PCM,
            8000,
            1,
            LimitSettings(max_duration_seconds=10),
        )


def test_long_files_are_described_in_hours(tmp_path: Path) -> None:
    # 2 h 5 min of 8 kHz stereo LPCM, as a sparse file: only its size is read.
    path = tmp_path / "long.raw"
    with path.open("wb") as file:
        file.truncate(2 * 2 * 8000 * (2 * 3600 + 300))
    with pytest.raises(
        InvalidArgument,
        match=r"^the audio lasts 4 h 10 min summed over 2 channels; the limit is 4 h$",
    ):
        _probe(path, AudioEncoding.LINEAR16_PCM, 8000, 2)


def test_file_size_limit(audio_fixtures: AudioFixtures) -> None:
    with pytest.raises(InvalidArgument, match="bytes; the limit is 1000 bytes"):
        _probe(audio_fixtures.jfk_mp3, limits=LimitSettings(max_file_bytes=1000))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.ogg"
    path.write_bytes(b"")
    with pytest.raises(InvalidArgument, match=r"^the file is empty$"):
        _probe(path, AudioEncoding.OGG_OPUS)


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        (AudioEncoding.OGG_OPUS, "^the file is not audio that can be decoded as OGG_OPUS: "),
        (AudioEncoding.MP3, "^the file is not audio that can be decoded as MP3: "),
        (AudioEncoding.WAV, "^the file is not audio that can be decoded as WAV: "),
        (AudioEncoding.AUTO, "^could not recognise the audio format; declare audioEncoding$"),
        (AudioEncoding.LINEAR16_PCM, "^the file is text, not LINEAR16_PCM audio$"),
    ],
)
def test_not_audio(audio_fixtures: AudioFixtures, declared: AudioEncoding, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message) as caught:
        _probe(audio_fixtures.not_audio, declared)
    assert str(audio_fixtures.not_audio.parent) not in str(caught.value), (
        "server paths stay private"
    )


def test_truncated_ogg(audio_fixtures: AudioFixtures) -> None:
    with pytest.raises(
        InvalidArgument, match=r"^the file is not audio that can be decoded as OGG_OPUS: .+"
    ):
        _probe(audio_fixtures.truncated_ogg, AudioEncoding.OGG_OPUS)


def test_ogg_cut_in_half_reports_what_is_left(
    audio_fixtures: AudioFixtures, tmp_path: Path
) -> None:
    data = audio_fixtures.stereo_ogg.read_bytes()
    path = tmp_path / "half.ogg"
    path.write_bytes(data[: len(data) // 2])
    info = _probe(path)
    assert info.channels == 2
    assert 3.0 < info.duration_seconds < 8.0


def test_lpcm_size_must_fit_the_channels(audio_fixtures: AudioFixtures, tmp_path: Path) -> None:
    path = tmp_path / "odd.raw"
    path.write_bytes(audio_fixtures.jfk_lpcm_8k.read_bytes()[:-2])
    with pytest.raises(InvalidArgument, match="not a whole number of 16-bit samples for 2 channel"):
        _probe(path, AudioEncoding.LINEAR16_PCM, 8000, 2)


@pytest.mark.parametrize("rate", [44100, 0, 22050])
def test_lpcm_sample_rate_must_be_supported(audio_fixtures: AudioFixtures, rate: int) -> None:
    with pytest.raises(InvalidArgument, match=f"sampleRateHertz is {rate}; .* 8000, 16000, 48000"):
        _probe(audio_fixtures.jfk_lpcm_8k, AudioEncoding.LINEAR16_PCM, rate, 1)


def test_wav_declared_as_lpcm_keeps_its_own_channels(
    audio_fixtures: AudioFixtures, tmp_path: Path
) -> None:
    left = read_wav_mono(audio_fixtures.jfk_wav)[:16000]
    path = write_wav(tmp_path / "two.wav", [left, left], 16000)
    assert _probe(path, AudioEncoding.LINEAR16_PCM, 8000, 1).channels == 2
