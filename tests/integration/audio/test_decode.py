from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream

from asyncstt.audio.decode import TARGET_RATE, decode_channel, decode_channels
from asyncstt.audio.probe import AudioInfo, probe
from asyncstt.errors import Internal, InvalidArgument
from asyncstt.recognition import AudioEncoding
from asyncstt.settings import LimitSettings
from tests.support.audio import (
    AudioFixtures,
    Samples,
    fit,
    read_wav_mono,
)

pytestmark = pytest.mark.integration

JFK_SAMPLES = 11 * TARGET_RATE
# (fixture, declared rate and channels for LPCM, channel holding jfk)
JFK_SOURCES = [
    ("jfk_wav", 0, 0, 0),
    ("jfk_flac", 0, 0, 0),
    ("jfk_mp3", 0, 0, 0),
    ("jfk_ogg", 0, 0, 0),
    ("stereo_wav", 0, 0, 0),
    ("stereo_ogg", 0, 0, 0),
    ("jfk_lpcm_8k", 8000, 1, 0),
    ("jfk_lpcm_48k_stereo", 48000, 2, 0),
]


def _info(path: Path, rate: int = 0, channels: int = 0) -> AudioInfo:
    declared = AudioEncoding.LINEAR16_PCM if rate else AudioEncoding.AUTO
    return probe(path, declared, rate, channels, LimitSettings())


def _correlation(a: Samples, b: Samples, lag: int = 0) -> float:
    """Normalised correlation of a[i + lag] with b[i] over the samples both have."""
    if lag > 0:
        a = a[lag:]
    elif lag < 0:
        b = b[-lag:]
    n = min(len(a), len(b))
    x, y = a[:n].astype(np.float64), b[:n].astype(np.float64)
    return float(np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y)))


def _best_lag(a: Samples, b: Samples, reach: int = 160) -> int:
    """The lag within ±reach at which a[i + lag] best matches b[i] (cross-correlation by FFT)."""
    n = min(len(a), len(b))
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(a[:n], size) * np.conj(np.fft.rfft(b[:n], size))
    products = np.fft.irfft(spectrum, size)
    lags = np.arange(-reach, reach + 1)
    return int(lags[np.argmax(products[lags])])


@pytest.fixture(scope="module")
def jfk(audio_fixtures: AudioFixtures) -> Samples:
    return read_wav_mono(audio_fixtures.jfk_wav)


@pytest.fixture(scope="module")
def ru_padded(audio_fixtures: AudioFixtures, jfk: Samples) -> Samples:
    return fit(read_wav_mono(audio_fixtures.ru_wav), len(jfk))


def test_wav_decodes_to_its_exact_samples(audio_fixtures: AudioFixtures, jfk: Samples) -> None:
    samples = decode_channel(audio_fixtures.jfk_wav, _info(audio_fixtures.jfk_wav), 0, 0.0, None)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    np.testing.assert_array_equal(samples, jfk)


@pytest.mark.parametrize(("name", "rate", "channels", "channel"), JFK_SOURCES)
def test_every_format_decodes_to_jfk_on_time(
    audio_fixtures: AudioFixtures, jfk: Samples, name: str, rate: int, channels: int, channel: int
) -> None:
    path = getattr(audio_fixtures, name)
    samples = decode_channel(path, _info(path, rate, channels), channel, 0.0, None)
    assert abs(len(samples) - JFK_SAMPLES) <= 0.02 * TARGET_RATE
    assert _correlation(samples, jfk) > 0.95
    # Timing: the best alignment with the source is where it should be, to the sample.
    assert abs(_best_lag(samples, jfk)) <= 1


@pytest.mark.parametrize(
    ("name", "rate", "channels"),
    [("stereo_wav", 0, 0), ("stereo_ogg", 0, 0), ("jfk_lpcm_48k_stereo", 48000, 2)],
)
def test_stereo_channels_decode_apart(
    audio_fixtures: AudioFixtures,
    jfk: Samples,
    ru_padded: Samples,
    name: str,
    rate: int,
    channels: int,
) -> None:
    path = getattr(audio_fixtures, name)
    info = _info(path, rate, channels)
    left = decode_channel(path, info, 0, 0.0, None)
    right = decode_channel(path, info, 1, 0.0, None)
    assert _correlation(left, jfk) > 0.95
    assert _correlation(right, ru_padded) > 0.95
    # No downmix: each channel carries nothing of the other recording.
    assert abs(_correlation(left, ru_padded)) < 0.1
    assert abs(_correlation(right, jfk)) < 0.1
    assert np.abs(right[4 * TARGET_RATE :]).max() < 0.01, "ru ends at 3.2 s; the rest is silence"


@pytest.mark.parametrize(
    ("name", "rate", "channels"),
    [("stereo_wav", 0, 0), ("stereo_ogg", 0, 0), ("jfk_lpcm_48k_stereo", 48000, 2)],
)
@pytest.mark.parametrize(("start", "end"), [(0.0, None), (2.5, 7.25)])
def test_channels_read_in_one_pass_are_those_read_one_by_one(
    audio_fixtures: AudioFixtures,
    name: str,
    rate: int,
    channels: int,
    start: float,
    end: float | None,
) -> None:
    path = getattr(audio_fixtures, name)
    info = _info(path, rate, channels)
    together = decode_channels(path, info, (0, 1), start, end)
    apart = [decode_channel(path, info, channel, start, end) for channel in (0, 1)]
    for both, one in zip(together, apart, strict=True):
        np.testing.assert_array_equal(both, one)
    assert len(together[0]) > TARGET_RATE


def test_wav_without_channel_mask_keeps_channels_exactly(
    audio_fixtures: AudioFixtures, jfk: Samples, ru_padded: Samples
) -> None:
    info = _info(audio_fixtures.stereo_wav)
    np.testing.assert_array_equal(
        decode_channel(audio_fixtures.stereo_wav, info, 0, 0.0, None), jfk
    )
    np.testing.assert_array_equal(
        decode_channel(audio_fixtures.stereo_wav, info, 1, 0.0, None), ru_padded
    )


@pytest.mark.parametrize(
    ("codec", "precision"),
    [
        ("pcm_u8", 1 / 128),
        ("pcm_s24le", 1e-6),
        ("pcm_s32le", 1e-6),
        ("pcm_f32le", 1e-7),
        ("pcm_f64le", 1e-7),
    ],
)
def test_every_pcm_sample_format_is_scaled_alike(
    jfk: Samples, ru_padded: Samples, tmp_path: Path, codec: str, precision: float
) -> None:
    path = tmp_path / f"{codec}.wav"
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream(codec, rate=TARGET_RATE, layout="stereo")
        assert isinstance(stream, AudioStream)
        frame = AudioFrame.from_ndarray(np.stack([jfk, ru_padded]), format="fltp", layout="stereo")
        frame.sample_rate = TARGET_RATE
        resampler = av.AudioResampler(format=stream.format, layout="stereo", rate=TARGET_RATE)
        for converted in resampler.resample(frame):
            container.mux(stream.encode(converted))
        container.mux(stream.encode(None))
    info = _info(path)
    np.testing.assert_allclose(decode_channel(path, info, 0, 0.0, None), jfk, atol=precision)
    np.testing.assert_allclose(decode_channel(path, info, 1, 0.0, None), ru_padded, atol=precision)


CUTS = [0.0, 0.9999, 2.5, 3.3337, 5.0, 7.1234, 9.87]


@pytest.mark.parametrize(
    ("name", "rate", "channels", "channel"), [*JFK_SOURCES, ("jfk_lpcm_48k_stereo", 48000, 2, 1)]
)
def test_slices_join_into_the_whole_channel(
    audio_fixtures: AudioFixtures, name: str, rate: int, channels: int, channel: int
) -> None:
    path = getattr(audio_fixtures, name)
    info = _info(path, rate, channels)
    whole = decode_channel(path, info, channel, 0.0, None)
    ends: list[float | None] = [*CUTS[1:], None]
    pieces = [
        decode_channel(path, info, channel, start, end)
        for start, end in zip(CUTS, ends, strict=True)
    ]
    for start, end, piece in zip(CUTS, CUTS[1:], pieces, strict=False):
        assert len(piece) == round(end * TARGET_RATE) - round(start * TARGET_RATE)
    joined = np.concatenate(pieces)
    assert len(joined) == len(whole)
    assert np.abs(joined - whole).max() < 1e-3


@pytest.mark.parametrize(
    ("name", "rate", "channels"), [("jfk_wav", 0, 0), ("jfk_flac", 0, 0), ("jfk_lpcm_8k", 8000, 1)]
)
def test_a_slice_starts_on_the_sample_it_names(
    audio_fixtures: AudioFixtures, name: str, rate: int, channels: int
) -> None:
    path = getattr(audio_fixtures, name)
    info = _info(path, rate, channels)
    whole = decode_channel(path, info, 0, 0.0, None)
    piece = decode_channel(path, info, 0, 6.2345, 8.0)
    np.testing.assert_allclose(
        piece, whole[round(6.2345 * TARGET_RATE) : 8 * TARGET_RATE], atol=1e-6
    )


@pytest.mark.parametrize(
    ("name", "rate", "channels"),
    [("jfk_wav", 0, 0), ("jfk_ogg", 0, 0), ("jfk_mp3", 0, 0), ("jfk_lpcm_8k", 8000, 1)],
)
def test_ranges_past_the_end(
    audio_fixtures: AudioFixtures, name: str, rate: int, channels: int
) -> None:
    path = getattr(audio_fixtures, name)
    info = _info(path, rate, channels)
    assert len(decode_channel(path, info, 0, 20.0, 30.0)) == 0
    assert len(decode_channel(path, info, 0, 20.0, None)) == 0
    assert len(decode_channel(path, info, 0, 10.0, 20.0)) == pytest.approx(TARGET_RATE, abs=320)
    assert len(decode_channel(path, info, 0, 3.0, 3.0)) == 0


def test_channel_out_of_range_is_a_bug(audio_fixtures: AudioFixtures) -> None:
    with pytest.raises(Internal, match="channel 1"):
        decode_channel(audio_fixtures.jfk_wav, _info(audio_fixtures.jfk_wav), 1, 0.0, 1.0)


def _ogg_crc(page: bytes | bytearray) -> int:
    """The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, MSB first, no reflection, no final XOR."""
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def _break_opus_packets(data: bytes, from_seconds: float, packets: int | None = None) -> bytes:
    """Ogg Opus whose packets past `from_seconds` (all, or the first `packets`) Opus cannot decode.

    Each page stays well formed, checksum included, so demuxing and timing still work and only decoding fails.
    """
    out = bytearray(data)
    offset, broken = 0, 0
    while (offset := out.find(b"OggS", offset)) >= 0:
        granule = int.from_bytes(out[offset + 6 : offset + 14], "little", signed=True)
        count = out[offset + 26]
        lacing = out[offset + 27 : offset + 27 + count]
        body = offset + 27 + count
        end = body + sum(lacing)
        if granule > from_seconds * 48000 and (packets is None or broken < packets):
            packet_start, starts_packet = body, not out[offset + 5] & 1
            for value in lacing:
                if starts_packet and (packets is None or broken < packets):
                    # Same frame layout (so the demuxer still times it), padding longer than the packet.
                    out[packet_start : packet_start + 3] = bytes(
                        [out[packet_start] | 3, 0xC1, 0xFF]
                    )
                    broken += 1
                packet_start += value
                starts_packet = value < 255
            out[offset + 22 : offset + 26] = bytes(4)
            out[offset + 22 : offset + 26] = _ogg_crc(out[offset:end]).to_bytes(4, "little")
        offset = end
    return bytes(out)


def test_corrupt_audio_is_refused_with_its_time(
    audio_fixtures: AudioFixtures, tmp_path: Path
) -> None:
    path = tmp_path / "broken.ogg"
    path.write_bytes(_break_opus_packets(audio_fixtures.jfk_ogg.read_bytes(), from_seconds=5.0))
    info = _info(path)
    assert len(decode_channel(path, info, 0, 0.0, 3.0)) == 3 * TARGET_RATE, (
        "audio before the damage decodes"
    )
    with pytest.raises(
        InvalidArgument, match=r"^the audio could not be decoded at (\d+\.\d\d) s: "
    ) as caught:
        decode_channel(path, info, 0, 0.0, None)
    seconds = float(str(caught.value).split(" at ")[1].split(" s")[0])
    assert 4.0 <= seconds <= 7.0


@pytest.mark.parametrize("name", ["jfk_flac", "jfk_mp3"])
def test_a_file_cut_short_is_refused_where_it_stops(
    audio_fixtures: AudioFixtures, tmp_path: Path, name: str
) -> None:
    source: Path = getattr(audio_fixtures, name)
    path = tmp_path / f"half{source.suffix}"
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    info = _info(path)
    assert info.duration_seconds == pytest.approx(11.0), "the header still claims the whole length"
    assert len(decode_channel(path, info, 0, 0.0, 4.0)) == 4 * TARGET_RATE
    with pytest.raises(
        InvalidArgument, match=r"^the audio could not be decoded at [4-7]\.\d\d s: .*truncated"
    ):
        decode_channel(path, info, 0, 4.0, None)
    with pytest.raises(InvalidArgument, match="truncated or damaged"):
        decode_channel(path, info, 0, 9.0, 10.0)


def test_a_few_damaged_packets_are_skipped_and_time_is_kept(
    audio_fixtures: AudioFixtures, jfk: Samples, tmp_path: Path
) -> None:
    path = tmp_path / "scratched.ogg"
    path.write_bytes(
        _break_opus_packets(audio_fixtures.jfk_ogg.read_bytes(), from_seconds=5.0, packets=5)
    )
    samples = decode_channel(path, _info(path), 0, 0.0, None)
    assert len(samples) == JFK_SAMPLES
    assert _correlation(samples[7 * TARGET_RATE :], jfk[7 * TARGET_RATE :]) > 0.95, (
        "later audio stays on time"
    )
