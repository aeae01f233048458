"""Test audio built at test time from the shared recordings, so that nothing large is committed.

A pytest plugin (loaded by `tests/conftest.py`) with the session fixture `audio_fixtures`, and plain builders
for tests and bench scripts that need their own files:

    left = read_wav_mono(shared / "jfk.wav")
    write_wav(path, [np.tile(left, 60), np.zeros(len(left) * 60, np.float32)], 16000)   # 11 min stereo
    encode(path.with_suffix(".ogg"), [left], 16000, "opus")

Samples are float32 in [-1, 1] (int16 arrays are taken as they are); one array per channel.
"""

from __future__ import annotations

import shutil
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
import pytest
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from numpy.typing import NDArray

Samples = NDArray[np.float32]
Codec = Literal["opus", "mp3", "flac", "wav"]

# codec -> (container, encoder, sample rates it takes or None for any)
_CODECS: dict[str, tuple[str, str, tuple[int, ...] | None]] = {
    "opus": ("ogg", "libopus", (48000, 24000, 16000, 12000, 8000)),
    "mp3": ("mp3", "libmp3lame", (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)),
    "flac": ("flac", "flac", None),
    "wav": ("wav", "pcm_s16le", None),
}


def to_int16(samples: NDArray[Any]) -> NDArray[np.int16]:
    if samples.dtype == np.int16:
        return samples
    # x 32768 inverts the usual int16 / 32768, so samples read from a 16-bit file are written back unchanged.
    return np.clip(np.round(np.asarray(samples, np.float64) * 32768), -32768, 32767).astype(
        np.int16
    )


def read_channels(path: Path) -> tuple[list[Samples], int]:
    """Every channel of an audio file that PyAV reads, as float32, at the file's own rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=stream.rate)
        pieces = [
            out.to_ndarray() for f in container.decode(stream) for out in resampler.resample(f)
        ]
        pieces += [out.to_ndarray() for out in resampler.resample(None)]
        rate = stream.rate
    data = np.concatenate(pieces, axis=1).astype(np.float32)
    return list(data), rate


def read_wav_mono(path: Path) -> Samples:
    """The samples of a one-channel file (any format PyAV reads) at its own rate."""
    channels, _ = read_channels(path)
    if len(channels) != 1:
        raise ValueError(f"{path} has {len(channels)} channels, not one")
    return channels[0]


def resample(samples: Samples, rate: int, to_rate: int) -> Samples:
    """One channel at another sample rate (FFmpeg's resampler)."""
    if rate == to_rate:
        return samples.astype(np.float32)
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=to_rate)
    frame = AudioFrame.from_ndarray(
        samples.astype(np.float32)[np.newaxis], format="fltp", layout="mono"
    )
    frame.sample_rate = rate
    out = resampler.resample(frame) + resampler.resample(None)
    return np.concatenate([f.to_ndarray()[0] for f in out]).astype(np.float32)


def fit(samples: NDArray[Any], length: int) -> NDArray[Any]:
    """`samples` cut or padded with silence to `length`."""
    if len(samples) >= length:
        return samples[:length]
    return np.pad(samples, (0, length - len(samples)))


def _interleaved(channels: Sequence[NDArray[Any]]) -> NDArray[np.int16]:
    if not channels or len({len(c) for c in channels}) != 1:
        raise ValueError("give one or more channels of equal length")
    return np.stack([to_int16(np.asarray(c)) for c in channels], axis=1)


def write_wav(path: Path, channels: Sequence[NDArray[Any]], rate: int) -> Path:
    """A 16-bit PCM WAV, one channel per array (a plain WAVE header: no channel mask)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(_interleaved(channels).astype("<i2").tobytes())
    return path


def write_lpcm(path: Path, channels: Sequence[NDArray[Any]]) -> Path:
    """Headerless 16-bit little-endian PCM, channels interleaved (LINEAR16_PCM)."""
    path.write_bytes(_interleaved(channels).astype("<i2").tobytes())
    return path


def encode(
    path: Path,
    channels: Sequence[NDArray[Any]],
    rate: int,
    codec: Codec,
    *,
    out_rate: int | None = None,
    bit_rate: int | None = None,
) -> Path:
    """`channels` (at `rate`) encoded with `codec` in its usual container: Ogg Opus, MP3, FLAC or WAV.

    `out_rate` is the file's sample rate (default: `rate`, or 48 kHz for Opus when it cannot take `rate`).
    """
    container_format, encoder, rates = _CODECS[codec]
    if out_rate is None:
        out_rate = rate if rates is None or rate in rates else 48000
    layout = {1: "mono", 2: "stereo"}.get(len(channels), f"{len(channels)}c")
    planar = np.ascontiguousarray(_interleaved(channels).T)
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(encoder, rate=out_rate, layout=layout)
        if not isinstance(stream, AudioStream):
            raise TypeError(f"{encoder} is not an audio encoder")
        if bit_rate is not None:
            stream.codec_context.bit_rate = bit_rate
        resampler = av.AudioResampler(format=stream.format, layout=layout, rate=out_rate)
        for begin in range(0, planar.shape[1], rate):
            frame = AudioFrame.from_ndarray(
                planar[:, begin : begin + rate], format="s16p", layout=layout
            )
            frame.sample_rate = rate
            for converted in resampler.resample(frame):
                container.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            container.mux(stream.encode(converted))
        container.mux(stream.encode(None))
    return path


@dataclass(frozen=True)
class AudioFixtures:
    """Files built once per test session in one directory (all 16 kHz sources from `examples/`)."""

    #: Copy of the shared jfk.wav (English, 11.0 s, 16 kHz mono).
    jfk_wav: Path
    #: Copy of the shared ru-neural-networks.wav (Russian, 3.2 s, 16 kHz mono).
    ru_wav: Path
    #: 16 kHz stereo WAV without a channel mask: left jfk, right ru padded with silence to 11.0 s.
    stereo_wav: Path
    #: The same two channels as Ogg Opus, 48 kHz.
    stereo_ogg: Path
    #: jfk as mono Ogg Opus, 48 kHz.
    jfk_ogg: Path
    #: jfk as mono MP3, 16 kHz, with the LAME tag.
    jfk_mp3: Path
    #: jfk as mono FLAC, 16 kHz.
    jfk_flac: Path
    #: jfk as headerless s16le, 8 kHz mono.
    jfk_lpcm_8k: Path
    #: Headerless s16le, 48 kHz, 2 channels: left jfk, right ru padded.
    jfk_lpcm_48k_stereo: Path
    #: 5 s of digital silence, 16 kHz mono WAV.
    silence_wav: Path
    #: 1 s WAV with 3 channels (jfk, ru, silence).
    three_channel_wav: Path
    #: A text file with a .wav name.
    not_audio: Path
    #: The first 3000 bytes of jfk_ogg.
    truncated_ogg: Path


@pytest.fixture(scope="session")
def audio_fixtures(
    tmp_path_factory: pytest.TempPathFactory, reference_audio: Path
) -> AudioFixtures:
    root = tmp_path_factory.mktemp("audio")
    jfk_wav = Path(shutil.copyfile(reference_audio / "jfk.wav", root / "jfk.wav"))
    ru_wav = Path(shutil.copyfile(reference_audio / "ru-neural-networks.wav", root / "ru.wav"))
    jfk, ru = read_wav_mono(jfk_wav), read_wav_mono(ru_wav)
    stereo = [jfk, fit(ru, len(jfk))]
    jfk_ogg = encode(root / "jfk.ogg", [jfk], 16000, "opus", out_rate=48000)
    second = 16000
    files = AudioFixtures(
        jfk_wav=jfk_wav,
        ru_wav=ru_wav,
        stereo_wav=write_wav(root / "stereo.wav", stereo, 16000),
        stereo_ogg=encode(root / "stereo.ogg", stereo, 16000, "opus", out_rate=48000),
        jfk_ogg=jfk_ogg,
        jfk_mp3=encode(root / "jfk.mp3", [jfk], 16000, "mp3"),
        jfk_flac=encode(root / "jfk.flac", [jfk], 16000, "flac"),
        jfk_lpcm_8k=write_lpcm(root / "jfk-8k.raw", [resample(jfk, 16000, 8000)]),
        jfk_lpcm_48k_stereo=write_lpcm(
            root / "stereo-48k.raw", [resample(channel, 16000, 48000) for channel in stereo]
        ),
        silence_wav=write_wav(root / "silence.wav", [np.zeros(5 * second, np.float32)], 16000),
        three_channel_wav=write_wav(
            root / "three.wav", [jfk[:second], ru[:second], np.zeros(second, np.float32)], 16000
        ),
        not_audio=root / "not-audio.wav",
        truncated_ogg=root / "truncated.ogg",
    )
    files.not_audio.write_text("This is not audio.\nIt is a text file with a .wav name.\n" * 20)
    files.truncated_ogg.write_bytes(jfk_ogg.read_bytes()[:3000])
    return files
