from __future__ import annotations

import pytest

from asyncstt.audio.format import AudioFormat, effective_format, sniff
from asyncstt.audio.probe import spoken_duration
from asyncstt.errors import InvalidArgument
from asyncstt.recognition import AudioEncoding

# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: 144 * 128000 // 44100 = 417 bytes a frame.
MP3_HEADER = bytes([0xFF, 0xFB, 0x90, 0x64])
MP3_FRAME = MP3_HEADER + bytes(417 - 4)
# MPEG-2 Layer III, 64 kbit/s, 16 kHz, padded: 72 * 64000 // 16000 + 1 = 289 bytes a frame.
MP3_16K_FRAME = bytes([0xFF, 0xF3, 0x8A, 0xC4]) + bytes(289 - 4)

WAV_HEAD = b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (WAV_HEAD, AudioFormat.WAV),
        (b"RF64\xff\xff\xff\xffWAVEds64", AudioFormat.WAV),
        (b"OggS\x00\x02" + bytes(20), AudioFormat.OGG),
        (b"fLaC\x00\x00\x00\x22", AudioFormat.FLAC),
        (b"ID3\x04\x00\x00\x00\x00\x01\x00", AudioFormat.MP3),
        (MP3_FRAME * 3, AudioFormat.MP3),
        (MP3_16K_FRAME * 3, AudioFormat.MP3),
        (MP3_HEADER, AudioFormat.MP3),
    ],
)
def test_signatures_are_recognised(head: bytes, expected: AudioFormat) -> None:
    assert sniff(head) is expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"RIFF\x24\x08\x00\x00AVI LIST",
        b"hello, this is a text file\n",
        b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>",
        # AAC in ADTS: the same 12 sync bits, but layer 0.
        bytes([0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC]) * 50,
        # PCM starting with samples -1, 0: a "free format" header, which we never take for MP3.
        bytes([0xFF, 0xFF, 0x00, 0x00]) * 200,
        # A valid-looking MPEG header with no second frame where the first one ends.
        MP3_FRAME + bytes(100),
        bytes(4096),
    ],
)
def test_other_bytes_have_no_signature(head: bytes) -> None:
    assert sniff(head) is None


@pytest.mark.parametrize(
    ("declared", "head", "expected"),
    [
        # The signature wins over the declaration.
        (AudioEncoding.LINEAR16_PCM, WAV_HEAD, AudioFormat.WAV),
        (AudioEncoding.MP3, b"OggS" + bytes(20), AudioFormat.OGG),
        (AudioEncoding.OGG_OPUS, MP3_FRAME * 2, AudioFormat.MP3),
        (AudioEncoding.WAV, b"fLaC" + bytes(20), AudioFormat.FLAC),
        (AudioEncoding.AUTO, b"OggS" + bytes(20), AudioFormat.OGG),
        # No signature: the declaration decides.
        (AudioEncoding.LINEAR16_PCM, bytes(64), AudioFormat.LPCM),
        (AudioEncoding.OGG_OPUS, bytes(64), AudioFormat.OGG),
        (AudioEncoding.MP3, bytes(64), AudioFormat.MP3),
        (AudioEncoding.WAV, bytes(64), AudioFormat.WAV),
    ],
)
def test_effective_format(declared: AudioEncoding, head: bytes, expected: AudioFormat) -> None:
    assert effective_format(declared, head) is expected


def test_auto_without_a_signature_asks_for_a_declaration() -> None:
    with pytest.raises(
        InvalidArgument, match="could not recognise the audio format; declare audioEncoding"
    ):
        effective_format(AudioEncoding.AUTO, b"\x01\x02\x03\x04" * 100)


def test_labels_are_the_api_names() -> None:
    assert [f.label for f in AudioFormat] == ["WAV", "OGG_OPUS", "MP3", "FLAC", "LINEAR16_PCM"]


@pytest.mark.parametrize(
    ("seconds", "spoken"),
    [
        (4 * 3600, "4 h"),
        (4 * 3600 + 600, "4 h 10 min"),
        (4 * 3600 + 0.2, "4 h 1 s"),
        (725, "12 min 5 s"),
        (11.0, "11 s"),
        (3.25, "3.3 s"),
        (0.5, "0.5 s"),
    ],
)
def test_spoken_duration(seconds: float, spoken: str) -> None:
    assert spoken_duration(seconds) == spoken
