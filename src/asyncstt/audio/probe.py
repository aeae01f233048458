"""What a file holds (format, channels, rate, duration), read from its header, and the limits checked on it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.container import InputContainer

from asyncstt.audio.format import AudioFormat, effective_format
from asyncstt.errors import InvalidArgument
from asyncstt.recognition import AudioEncoding
from asyncstt.settings import LimitSettings

#: Sample rates a client may declare for headerless LINEAR16_PCM.
LPCM_SAMPLE_RATES = (8000, 16000, 48000)
#: Sample rates a file may have. Below, no speech survives; above, a header is lying or the file is not for
#: listening, and decoding it would cost time out of proportion to its length.
MIN_SAMPLE_RATE = 4000
MAX_SAMPLE_RATE = 384000
#: How far decoded audio may run past the duration probing found (seconds, or share of it) before the file is
#: refused as lying about its length. Honest headers are off by a few milliseconds (Opus end padding).
OVERRUN_SECONDS = 0.5
OVERRUN_SHARE = 0.01

# Enough for every signature `sniff` knows and for a text check of LPCM.
_HEAD_BYTES = 4096
# FFmpeg demuxer for each container format, forced so that the bytes are read as what sniffing found.
_DEMUXERS = {
    AudioFormat.WAV: "wav",
    AudioFormat.OGG: "ogg",
    AudioFormat.MP3: "mp3",
    AudioFormat.FLAC: "flac",
}
# FFmpeg's WAV demuxer hands out 4 KiB packets, 64 ms of 16 kHz stereo: placing each decoded frame costs far more
# in Python than decoding it, so packets of 64 KiB (one second of it) are asked for. A WAV header says all
# FFmpeg needs of the stream, so opening reads no packets to probe it (by default it reads some, and with large
# packets that took 130 ms, against 3 ms: a file is opened once per slice and per planning window).
_DEMUXER_OPTIONS = {AudioFormat.WAV: {"max_size": str(1 << 16), "probesize": "32"}}
# A header duration implying fewer bits per second than this is not believed: even Opus silence costs more.
_MIN_BITS_PER_SECOND = 500
# MPEG audio tags that carry the frame count; without one, FFmpeg guesses the length from the first bit rate.
_MP3_LENGTH_TAGS = (b"Xing", b"Info", b"VBRI")


@dataclass(frozen=True)
class AudioInfo:
    """What probing found; plain data, so it travels with every slice task."""

    format: AudioFormat
    channels: int
    #: Samples per second of the file (for LPCM: the declared rate).
    sample_rate: int
    #: Length of one channel.
    duration_seconds: float

    @property
    def decodable_seconds(self) -> float:
        """The most audio of one channel that decoding may produce: the duration and a small overrun."""
        return self.duration_seconds + max(OVERRUN_SECONDS, OVERRUN_SHARE * self.duration_seconds)


def probe(
    path: Path,
    declared: AudioEncoding,
    lpcm_sample_rate: int,
    lpcm_channels: int,
    limits: LimitSettings,
) -> AudioInfo:
    """Format, channels, rate and duration of the file, checked against `limits`.

    Reads the header, then counts the packets (no decoding) to see that the header does not understate them;
    headerless PCM and PCM in WAV are measured by their size. `lpcm_sample_rate` and `lpcm_channels` apply only when the bytes turn out to be headerless PCM.
    """
    size = path.stat().st_size
    if size == 0:
        raise InvalidArgument("the file is empty")
    if size > limits.max_file_bytes:
        raise InvalidArgument(
            f"the file has {size} bytes; the limit is {limits.max_file_bytes} bytes"
        )
    with path.open("rb") as file:
        head = file.read(_HEAD_BYTES)
    fmt = effective_format(declared, head)
    if fmt is AudioFormat.LPCM:
        info = _probe_lpcm(size, head, lpcm_sample_rate, lpcm_channels)
        _check_channels(info.channels, limits)
        _check_duration(info, limits, None)
    else:
        info, claimed = _probe_container(path, fmt, size, limits)
        _check_duration(info, limits, claimed)
    return info


def open_container(path: Path, fmt: AudioFormat) -> InputContainer:
    """The file opened by PyAV as `fmt`; a file that is not that format is the client's error."""
    try:
        return av.open(str(path), format=_DEMUXERS[fmt], options=_DEMUXER_OPTIONS.get(fmt, {}))
    except av.FFmpegError as error:
        raise not_decodable(fmt, error) from error


def first_audio_stream(container: InputContainer, fmt: AudioFormat) -> AudioStream:
    """The audio stream to decode, refused unless FFmpeg has a decoder for it and its rate is plausible."""
    if not container.streams.audio:
        raise InvalidArgument("the file has no audio stream")
    stream = container.streams.audio[0]
    # FFmpeg opens a stream it has no decoder for (an unknown WAV format tag, 0 bits per sample) without a
    # codec context; every attribute read through it would fail.
    if stream.codec_context is None:
        raise InvalidArgument(
            f"the file's audio cannot be decoded as {fmt.label}: its codec is unknown or its header's "
            "format fields (format tag, bits per sample) are invalid"
        )
    if stream.channels <= 0 or stream.rate <= 0:
        raise InvalidArgument(
            f"the file is not audio that can be decoded as {fmt.label}: no audio frames were found"
        )
    if not MIN_SAMPLE_RATE <= stream.rate <= MAX_SAMPLE_RATE:
        raise InvalidArgument(
            f"the file says its sample rate is {stream.rate} Hz; audio from {MIN_SAMPLE_RATE} to "
            f"{MAX_SAMPLE_RATE} Hz is accepted"
        )
    return stream


def stream_time_base(stream: AudioStream) -> Fraction:
    """The stream's tick length; FFmpeg always sets one for an opened audio stream."""
    if stream.time_base is None:
        return Fraction(1, stream.rate)
    return stream.time_base


def not_decodable(fmt: AudioFormat, error: av.FFmpegError) -> InvalidArgument:
    return InvalidArgument(
        f"the file is not audio that can be decoded as {fmt.label}: {error_detail(error)}"
    )


def error_detail(error: av.FFmpegError) -> str:
    """FFmpeg's own words without the file name, which is a server path the client should not see."""
    return error.strerror or type(error).__name__


def _probe_lpcm(size: int, head: bytes, sample_rate: int, channels: int) -> AudioInfo:
    if sample_rate not in LPCM_SAMPLE_RATES:
        allowed = ", ".join(str(rate) for rate in LPCM_SAMPLE_RATES)
        raise InvalidArgument(
            f"sampleRateHertz is {sample_rate}; LINEAR16_PCM audio must be one of {allowed}"
        )
    if channels < 1:
        raise InvalidArgument(f"audioChannelCount is {channels}; it must be at least 1")
    if size % (2 * channels):
        raise InvalidArgument(
            f"the file has {size} bytes, which is not a whole number of 16-bit samples for "
            f"{channels} channel(s) of LINEAR16_PCM; check audioChannelCount or audioEncoding"
        )
    if _looks_like_text(head):
        raise InvalidArgument("the file is text, not LINEAR16_PCM audio")
    return AudioInfo(AudioFormat.LPCM, channels, sample_rate, size / (2 * channels * sample_rate))


def _looks_like_text(head: bytes) -> bool:
    """True for printable text (an error page, a list of links); real PCM always has control bytes in it."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of `head` still means text.
        if error.start < len(head) - 3:
            return False
        text = head[: error.start].decode("utf-8")
    return len(text) >= 16 and all(char.isprintable() or char in "\t\r\n" for char in text)


def _probe_container(
    path: Path, fmt: AudioFormat, size: int, limits: LimitSettings
) -> tuple[AudioInfo, float | None]:
    """What the file holds, and the duration its header claimed when that understates what its packets hold."""
    with open_container(path, fmt) as container:
        stream = first_audio_stream(container, fmt)
        channels, rate = stream.channels, stream.rate
        _check_channels(channels, limits)
        duration = _header_duration(container, stream)
        longest = limits.max_duration_seconds / channels
        believable = (
            duration is not None
            and size * 8 / duration >= _MIN_BITS_PER_SECOND
            and (fmt is not AudioFormat.MP3 or _has_mp3_length_tag(path))
        )
        if duration is None or not believable:
            measured = _counted_duration(container, stream, fmt, longest)
            if measured > longest:
                # Counting stops just past the limit, so its figure says only that the audio is longer.
                summed = " summed over its channels" if channels > 1 else ""
                raise InvalidArgument(
                    f"the audio lasts more than the limit of "
                    f"{spoken_duration(limits.max_duration_seconds)}{summed}"
                )
            return AudioInfo(fmt, channels, rate, measured), None
        if _exact_pcm(fmt, stream):
            return AudioInfo(fmt, channels, rate, duration), None
        # A header can claim a second for hours of packets: what they add up to is checked against the
        # limits, so that such a file is refused here rather than after decoding them all.
        counted = _packet_seconds(container, stream, longest)
    info = AudioInfo(fmt, channels, rate, duration)
    if counted is not None and counted > info.decodable_seconds:
        return AudioInfo(fmt, channels, rate, counted), duration
    return info, None


def _exact_pcm(fmt: AudioFormat, stream: AudioStream) -> bool:
    """PCM in a WAV file: FFmpeg reads no further than the size its data chunk states, so that size is exact."""
    return fmt is AudioFormat.WAV and stream.codec_context.name.startswith("pcm_")


def _packet_seconds(container: InputContainer, stream: AudioStream, longest: float) -> float | None:
    """Seconds summed from packet durations up to a damaged packet, or just past `longest`; None when packets
    do not say how long they are. Demuxing reads no audio into memory and costs about 0.6 s per hour."""
    ticks = 0
    limit_ticks = longest / stream_time_base(stream)
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if not packet.duration:
                return None
            ticks += packet.duration
            if ticks > limit_ticks:
                break
    except av.FFmpegError:
        # Decoding reports the damage, with its time; the packets before it still count.
        pass
    return float(ticks * stream_time_base(stream))


def _header_duration(container: InputContainer, stream: AudioStream) -> float | None:
    if stream.duration is not None and stream.duration > 0:
        seconds = float(stream.duration * stream_time_base(stream))
    elif container.duration is not None and container.duration > 0:
        seconds = container.duration / av.time_base
    else:
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def _counted_duration(
    container: InputContainer, stream: AudioStream, fmt: AudioFormat, longest: float
) -> float:
    """Seconds summed from packet durations, stopping once past `longest` (the limit says no by then)."""
    ticks = 0
    time_base = stream_time_base(stream)
    limit_ticks = longest / time_base
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if not packet.duration:
                return _decoded_duration(container, stream, fmt, longest)
            ticks += packet.duration
            if ticks > limit_ticks:
                break
    except av.FFmpegError as error:
        raise not_decodable(fmt, error) from error
    if ticks == 0:
        raise InvalidArgument(
            f"the file is not audio that can be decoded as {fmt.label}: no audio frames were found"
        )
    return float(ticks * time_base)


def _decoded_duration(
    container: InputContainer, stream: AudioStream, fmt: AudioFormat, longest: float
) -> float:
    """Seconds counted by decoding everything: for streams whose packets do not say how long they are."""
    container.seek(0)
    samples = 0
    try:
        for frame in container.decode(stream):
            samples += frame.samples
            if samples > longest * stream.rate:
                break
    except av.FFmpegError as error:
        raise not_decodable(fmt, error) from error
    return samples / stream.rate


def _has_mp3_length_tag(path: Path) -> bool:
    """Whether the first MPEG frame carries a Xing/Info/VBRI tag, which makes FFmpeg's duration exact."""
    with path.open("rb") as file:
        data = file.read(10)
        offset = 0
        if data[:3] == b"ID3" and len(data) == 10:
            # ID3v2 size: four 7-bit bytes, plus a 10-byte footer when flag 0x10 is set.
            tag = (
                (data[6] & 0x7F) << 21
                | (data[7] & 0x7F) << 14
                | (data[8] & 0x7F) << 7
                | data[9] & 0x7F
            )
            offset = 10 + tag + (10 if data[5] & 0x10 else 0)
        file.seek(offset)
        data = file.read(8192)
    for start in range(len(data) - 1):
        if data[start] == 0xFF and data[start + 1] & 0xE0 == 0xE0:
            frame = data[start : start + 200]
            return any(tag in frame for tag in _MP3_LENGTH_TAGS)
    return False


def _check_channels(channels: int, limits: LimitSettings) -> None:
    if channels > limits.max_channels:
        raise InvalidArgument(
            f"the audio has {channels} channels; at most {limits.max_channels} "
            f"{'is' if limits.max_channels == 1 else 'are'} supported"
        )


def _check_duration(info: AudioInfo, limits: LimitSettings, claimed: float | None) -> None:
    total = info.duration_seconds * info.channels
    if total > limits.max_duration_seconds:
        summed = f" summed over {info.channels} channels" if info.channels > 1 else ""
        lying = (
            ""
            if claimed is None
            else f" (its header claims {spoken_duration(claimed * info.channels)})"
        )
        raise InvalidArgument(
            f"the audio lasts {'more than ' if lying else ''}{spoken_duration(total)}{summed}{lying}; "
            f"the limit is {spoken_duration(limits.max_duration_seconds)}"
        )


def spoken_duration(seconds: float) -> str:
    """`4 h 10 min`, `12 min 5 s`, `3.5 s`: rounded up, so audio just over a limit never reads as equal to it."""
    if seconds < 60:
        return f"{math.ceil(seconds * 10 - 1e-6) / 10:.1f}".removesuffix(".0") + " s"
    whole = math.ceil(seconds - 1e-6)
    parts = [(whole // 3600, "h"), (whole % 3600 // 60, "min"), (whole % 60, "s")]
    return " ".join(f"{value} {unit}" for value, unit in parts if value)
