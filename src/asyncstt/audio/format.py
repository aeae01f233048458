"""What the bytes of an audio file really are, whatever the client declared."""

from __future__ import annotations

import enum

from asyncstt.errors import InvalidArgument
from asyncstt.recognition import AudioEncoding


class AudioFormat(enum.Enum):
    """The format of the bytes, as found from their signature or, failing that, as declared."""

    #: RIFF/WAVE container.
    WAV = "WAV"
    #: Ogg container (Opus inside, as SpeechKit expects; other Ogg codecs decode too).
    OGG = "OGG"
    #: MPEG audio frames, with or without an ID3 tag in front.
    MP3 = "MP3"
    #: Native FLAC stream.
    FLAC = "FLAC"
    #: Headerless 16-bit little-endian PCM: rate and channel count come from the request.
    LPCM = "LPCM"

    @property
    def label(self) -> str:
        """The name a client knows from the API, for messages."""
        return _LABELS[self]


_LABELS = {
    AudioFormat.WAV: "WAV",
    AudioFormat.OGG: "OGG_OPUS",
    AudioFormat.MP3: "MP3",
    AudioFormat.FLAC: "FLAC",
    AudioFormat.LPCM: "LINEAR16_PCM",
}

_DECLARED = {
    AudioEncoding.LINEAR16_PCM: AudioFormat.LPCM,
    AudioEncoding.OGG_OPUS: AudioFormat.OGG,
    AudioEncoding.MP3: AudioFormat.MP3,
    AudioEncoding.WAV: AudioFormat.WAV,
}

# Bit rates in kbit/s by (MPEG-1 or not, layer), indexed by the header's 4-bit bit-rate field.
_BIT_RATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Sample rates by the header's 2-bit version field (0: MPEG-2.5, 2: MPEG-2, 3: MPEG-1).
_SAMPLE_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}


def sniff(head: bytes) -> AudioFormat | None:
    """The format that the first bytes of a file announce, or None when they announce none we read.

    A few KiB give the surest answer: a bare MPEG frame header is trusted only when the next frame header follows
    where the first one says it ends (or the bytes stop before that), because 16-bit PCM that starts with a
    sample like -1 looks like a frame header on its own.
    """
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return AudioFormat.WAV
    if head.startswith(b"OggS"):
        return AudioFormat.OGG
    if head.startswith(b"fLaC"):
        return AudioFormat.FLAC
    if head.startswith(b"ID3"):
        return AudioFormat.MP3
    length = _mpeg_frame_length(head, 0)
    if length is not None and (
        len(head) < length + 4 or _mpeg_frame_length(head, length) is not None
    ):
        return AudioFormat.MP3
    return None


def effective_format(declared: AudioEncoding, head: bytes) -> AudioFormat:
    """The format to decode as: the signature in `head` wins over the declaration, which fills in when there is none."""
    found = sniff(head)
    if found is not None:
        return found
    if declared is AudioEncoding.AUTO:
        raise InvalidArgument("could not recognise the audio format; declare audioEncoding")
    return _DECLARED[declared]


def _mpeg_frame_length(data: bytes, offset: int) -> int | None:
    """Bytes in the MPEG audio frame whose header starts at `offset`, or None if no valid header is there.

    Free-format frames (bit-rate field 0) count as invalid: they are vanishingly rare in real files and common in
    the first bytes of raw PCM.
    """
    header = data[offset : offset + 4]
    if len(header) < 3 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 0b11
    layer = 4 - ((header[1] >> 1) & 0b11)
    rate_index = (header[2] >> 2) & 0b11
    bit_rate_index = header[2] >> 4
    if version == 1 or layer == 4 or rate_index == 3 or bit_rate_index in (0, 15):
        return None
    mpeg1 = version == 3
    bit_rate = _BIT_RATES[(mpeg1, layer)][bit_rate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    if layer == 1:
        return (12 * bit_rate // sample_rate + padding) * 4
    if layer == 3 and not mpeg1:
        return 72 * bit_rate // sample_rate + padding
    return 144 * bit_rate // sample_rate + padding
