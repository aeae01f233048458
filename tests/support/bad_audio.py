"""The bad-audio corpus: files that lie about their length, are cut short, expand enormously, carry absurd header
fields or hold random bytes behind a valid signature, built at test time from a few seconds of real speech.

    cases = bad_audio_corpus(tmp_path, speech, longer_than=60.0)   # each case: a file and what its refusal says

Lying files hold `longer_than` + 30 s of audio and claim one second, so a server whose duration limit is
`longer_than` refuses them once their packets pass it, and the test stays fast.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support.audio import Samples, encode, to_int16, write_wav

#: Sample rate of the speech every case is built from.
RATE = 16000
#: A sparse file this large costs no disk: only its header is written.
SPARSE_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class BadFile:
    """One file of the corpus and a pattern that the message refusing it must match."""

    name: str
    path: Path
    refusal: str

    def matches(self, message: str) -> bool:
        return re.search(self.refusal, message, re.IGNORECASE) is not None


def bad_audio_corpus(root: Path, speech: Samples, longer_than: float) -> list[BadFile]:
    """Every case of the corpus under `root`; `speech` is 16 kHz mono and a few seconds long."""
    root.mkdir(parents=True, exist_ok=True)
    long = np.tile(speech, int((longer_than + 30) * RATE) // len(speech) + 1)
    short = np.tile(speech, 2)
    cases: list[BadFile] = []

    def add(name: str, refusal: str, build: Callable[[Path], object]) -> None:
        path = root / name
        build(path)
        cases.append(BadFile(name, path, refusal))

    longer = r"lasts more than .*header claims 1(\.\d)? s.*limit is"
    add("lying.flac", longer, lambda p: flac_claiming(encode(p, [long], RATE, "flac"), RATE))
    add("lying.mp3", longer, lambda p: mp3_claiming(encode(p, [long], RATE, "mp3"), 28))
    add("lying.ogg", longer, lambda p: ogg_claiming(encode(p, [long], RATE, "opus"), 48312))
    add("bomb.flac", r"lasts \d+ min", lambda p: encode(p, [np.zeros(600 * 8000)], 8000, "flac"))

    cut_short = r"truncated or damaged"
    add("truncated.mp3", cut_short, lambda p: _halved(encode(p, [short], RATE, "mp3")))
    add("truncated.flac", cut_short, lambda p: _halved(encode(p, [short], RATE, "flac")))
    add(
        "truncated-headers.ogg",
        r"not audio that can be decoded as OGG_OPUS",
        lambda p: _cut(p, short),
    )

    def wav(name: str, refusal: str, **fields: int) -> None:
        add(name, refusal, lambda p: p.write_bytes(_wav_bytes(short, **fields)))

    rate = r"sample rate is \d+ Hz; audio from 4000 to 384000 Hz"
    wav("rate-1.wav", rate, rate=1)
    wav("rate-2e9.wav", rate, rate=2_000_000_000)
    wav("rate-4e9.wav", r"not audio that can be decoded as WAV", rate=4_000_000_000)
    # FFmpeg takes the rate from the frames and the time base from STREAMINFO: the timestamps come out wrong.
    add(
        "rate-655350.flac",
        cut_short,
        lambda p: _flac_rate(encode(p, [short], RATE, "flac"), 655350),
    )
    codec = r"its codec is unknown or its header's format fields"
    wav("bits-0.wav", codec, bits=0)
    wav("format-tag-0x1234.wav", codec, tag=0x1234)
    wav("channels-0.wav", r"no audio frames were found", channels=0)
    wav("channels-3.wav", r"has 3 channels; at most", channels=3)
    wav("channels-255.wav", r"has 255 channels; at most", channels=255)

    garbage = os.urandom(64 * 1024)
    wave_magic = b"RIFF" + struct.pack("<I", len(garbage) + 4) + b"WAVE"
    for name, magic, label in (
        ("random.wav", wave_magic, "WAV"),
        ("random.flac", b"fLaC", "FLAC"),
        ("random.ogg", b"OggS", "OGG_OPUS"),
        ("random.mp3", b"ID3", "MP3"),
    ):
        add(name, f"not audio that can be decoded as {label}", _writer(magic + garbage))
    add("sparse-2gb.wav", r"the file (is|has) .*; the limit is", _sparse)
    return cases


def harmless_wav_oddities(root: Path, speech: Samples) -> list[Path]:
    """WAV headers that are odd but still describe audio FFmpeg reads (7 and 64 bits per sample): they decode."""
    root.mkdir(parents=True, exist_ok=True)
    files = []
    for bits, align in ((7, 1), (64, 8)):
        path = root / f"bits-{bits}.wav"
        path.write_bytes(_wav_bytes(speech, bits=bits, align=align))
        files.append(path)
    return files


def _writer(data: bytes) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(data)


def _wav_bytes(
    samples: Samples,
    *,
    tag: int = 1,
    channels: int = 1,
    rate: int = RATE,
    bits: int = 16,
    align: int = 2,
) -> bytes:
    """A WAV file of 16-bit `samples` under a header whose fields say what the caller asks, true or not."""
    data = to_int16(samples).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", tag, channels, rate % 2**32, (rate * align) % 2**32, align, bits)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )


def flac_claiming(path: Path, samples: int) -> None:
    """STREAMINFO's total sample count (36 bits from byte 21 of the file, low nibble first) set to `samples`."""
    data = bytearray(path.read_bytes())
    data[21] = (data[21] & 0xF0) | (samples >> 32 & 0x0F)
    data[22:26] = struct.pack(">I", samples & 0xFFFFFFFF)
    path.write_bytes(bytes(data))


def _flac_rate(path: Path, rate: int) -> None:
    """STREAMINFO's 20-bit sample rate (bytes 18 to 20, high nibble of 20) set to `rate`."""
    data = bytearray(path.read_bytes())
    data[18], data[19] = rate >> 12 & 0xFF, rate >> 4 & 0xFF
    data[20] = (rate & 0x0F) << 4 | data[20] & 0x0F
    path.write_bytes(bytes(data))


def mp3_claiming(path: Path, frames: int) -> None:
    """The Xing/Info tag's frame count set to `frames`."""
    data = bytearray(path.read_bytes())
    tag = max(data.find(b"Xing"), data.find(b"Info"))
    if tag < 0 or not struct.unpack(">I", data[tag + 4 : tag + 8])[0] & 1:
        raise ValueError(f"{path} has no Xing/Info tag with a frame count")
    data[tag + 8 : tag + 12] = struct.pack(">I", frames)
    path.write_bytes(bytes(data))


def ogg_claiming(path: Path, granule: int) -> None:
    """The last Ogg page's granule position set to `granule` (48 kHz samples with Opus), its CRC made right."""
    data = bytearray(path.read_bytes())
    page = data.rfind(b"OggS")
    data[page + 6 : page + 14] = struct.pack("<q", granule)
    data[page + 22 : page + 26] = bytes(4)
    segments = data[page + 26]
    size = 27 + segments + sum(data[page + 27 : page + 27 + segments])
    data[page + 22 : page + 26] = struct.pack("<I", _ogg_crc(bytes(data[page : page + size])))
    path.write_bytes(bytes(data))


def _ogg_crc(data: bytes) -> int:
    """Ogg's page checksum: CRC-32, polynomial 0x04C11DB7, not reflected, starting from 0."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = (crc << 1 ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        crc &= 0xFFFFFFFF
    return crc


def _halved(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _cut(path: Path, samples: Samples) -> None:
    """An Ogg Opus file cut inside its header pages."""
    encode(path, [samples], RATE, "opus")
    path.write_bytes(path.read_bytes()[:120])


def _sparse(path: Path) -> None:
    """A WAV header in front of 2 GB of holes: the file is that large, the disk holds a few bytes."""
    with path.open("wb") as file:
        file.write(_wav_bytes(np.zeros(16, np.float32)))
        file.truncate(SPARSE_BYTES)


def write_normal(path: Path, speech: Samples) -> Path:
    """A good file, to show the service still recognises after the corpus."""
    return write_wav(path, [speech], RATE)
