"""Decoding one time slice of one or more channels to 16 kHz samples.

Only the asked range is decoded: containers are entered by a time seek a little before it, headerless PCM by a
byte offset. Every decoded frame is placed by its timestamp, so a slice starts on the sample it names and
consecutive slices join without a gap or an overlap. Channels are never mixed.

What a decode holds is bounded by the range asked, never by what the file says: a slice that runs to the end of
the file stops once it passes the duration probing found (`AudioInfo.decodable_seconds`), and the file is refused
as lying about its length. So one slice holds at most its own length of 16 kHz samples (64 KB a second) and
half a second of native audio.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer
from numpy.typing import NDArray

from asyncstt.audio.format import AudioFormat
from asyncstt.audio.probe import (
    AudioInfo,
    error_detail,
    first_audio_stream,
    open_container,
    stream_time_base,
)
from asyncstt.errors import Internal, InvalidArgument

#: Samples per second of everything `decode_channel` returns.
TARGET_RATE = 16000

# How far ahead of a slice to seek, tried in turn when a seek lands too late (an inexact MP3 seek). Half a second
# covers Opus's 80 ms decoder pre-roll, the MP3 bit reservoir and the resampler's filter.
_PREROLL_SECONDS = (0.5, 5.0, 60.0)
# The first decoded sample must come at least this long before the slice for the decoders to have settled.
_SETTLE_SECONDS = 0.05
# Decoded past a slice's end so that the resampler's filter sees the audio that follows, as in one long decode.
_TAIL_SECONDS = 0.05
# Consecutive packets that may fail to decode (a damaged frame is skipped, as players do) before the file is refused.
_MAX_BAD_PACKETS = 20
# Timestamp jumps up to this long are lost packets and become silence; longer ones are broken timestamps, ignored.
_MAX_GAP_SECONDS = 5.0
# Headerless PCM is read in blocks of this length, so a long slice never sits in memory twice.
_LPCM_BLOCK_SECONDS = 10.0
# Decoding that stops more than this much (seconds, or share of the duration) before the header's duration means a
# truncated or damaged file. Headers are off by a few milliseconds at most (Opus end padding).
_SHORTFALL_SECONDS = 0.5
_SHORTFALL_SHARE = 0.01
# Native samples are handed to the resampler in pieces of this length: one call per decoded frame costs more
# than the resampling itself.
_RESAMPLE_CHUNK_SECONDS = 0.5

Samples = NDArray[np.float32]
_EMPTY: Samples = np.zeros(0, dtype=np.float32)

# NumPy type of each FFmpeg sample format (planar ones by their packed name).
_SAMPLE_TYPES = {
    "u8": np.uint8,
    "s16": np.int16,
    "s32": np.int32,
    "s64": np.int64,
    "flt": np.float32,
    "dbl": np.float64,
}
# (offset, scale) to [-1, 1] of integer samples by bytes per sample; 0 stands for unsigned 8-bit.
_INTEGER_SCALES = {0: (128.0, 128.0), 2: (0.0, 2.0**15), 4: (0.0, 2.0**31), 8: (0.0, 2.0**63)}


@dataclass(frozen=True)
class _Block:
    """Decoded audio at the file's own rate: `data[:, 0]` is sample number `position` of the file."""

    position: int
    #: One row per asked channel, float32 in [-1, 1].
    data: Samples


class _Unplaceable(Exception):
    """A seek landed on frames without timestamps, so their place in the file is unknown."""


def decode_channel(
    path: Path, info: AudioInfo, channel: int, start: float, end: float | None
) -> Samples:
    """16 kHz float32 samples of one channel (0-based) for [start, end) seconds; `end` None runs to the end.

    Sample `i` of the result is sample `round(start * 16000) + i` of the whole channel at 16 kHz, so slices cut at
    the same points join into the whole channel. A range past the end of the audio gives fewer samples, or none.
    With `end` None, audio that goes on past `info.decodable_seconds` refuses the file (InvalidArgument).
    """
    return decode_channels(path, info, (channel,), start, end)[0]


def decode_channels(
    path: Path, info: AudioInfo, channels: Sequence[int], start: float, end: float | None
) -> tuple[Samples, ...]:
    """`decode_channel` of each of `channels` from one pass over the file: the same samples, read once."""
    for channel in channels:
        if not 0 <= channel < info.channels:
            raise Internal(f"channel {channel} was asked of audio with {info.channels} channel(s)")
    start = max(0.0, start)
    first = round(start * TARGET_RATE)
    last = info.decodable_seconds if end is None else end
    stop = round(last * TARGET_RATE)
    if stop <= first:
        return tuple(np.zeros(0, dtype=np.float32) for _ in channels)
    native_stop = math.ceil((last + _TAIL_SECONDS) * info.sample_rate)
    with ffmpeg_errors_refused():
        blocks = native_blocks(path, info, channels, start, native_stop)
        placed: Iterator[tuple[int, Samples]]
        if info.sample_rate == TARGET_RATE:
            placed = ((block.position, block.data) for block in blocks)
        else:
            placed = _resampled(blocks, info.sample_rate, len(channels))
        samples = _cut(placed, len(channels), first, stop)
    if end is None and first + samples.shape[1] >= stop:
        raise InvalidArgument(
            f"the audio goes on past {last:.2f} s, but the file says it lasts {info.duration_seconds:.2f} s; "
            "its header understates its length or the file is damaged: re-encode it"
        )
    return tuple(samples)


@contextlib.contextmanager
def ffmpeg_errors_refused() -> Iterator[None]:
    """FFmpeg failing on a file (a seek into garbage, a resampler refusing its rate) is the file's fault."""
    try:
        yield
    except av.FFmpegError as error:
        raise InvalidArgument(f"the audio could not be decoded: {error_detail(error)}") from error


def _cut(placed: Iterator[tuple[int, Samples]], rows: int, first: int, stop: int | None) -> Samples:
    """Samples [first, stop) of a stream of (position, rows x samples) pieces; silence where none were decoded."""
    pieces: list[Samples] = []
    cursor = first
    for position, samples in placed:
        if position > cursor:
            gap_end = position if stop is None else min(position, stop)
            if gap_end > cursor:
                pieces.append(np.zeros((rows, gap_end - cursor), dtype=np.float32))
                cursor = gap_end
        length = samples.shape[1]
        begin = cursor - position
        end = length if stop is None else min(length, stop - position)
        if end > begin:
            pieces.append(samples[:, begin:end])
            cursor = position + end
        if stop is not None and cursor >= stop:
            break
    if not pieces:
        return np.zeros((rows, 0), dtype=np.float32)
    return np.concatenate(pieces, axis=1).astype(np.float32, copy=False)


def _resampled(blocks: Iterator[_Block], rate: int, rows: int) -> Iterator[tuple[int, Samples]]:
    """`blocks` at 16 kHz, each row by a resampler of its own, with the 16 kHz sample number of each piece.

    Input before the first sample that falls exactly on the 16 kHz grid is dropped, so every slice's output lies
    on the same grid as a decode of the whole file.
    """
    step = rate // math.gcd(rate, TARGET_RATE)
    chunk = math.ceil(_RESAMPLE_CHUNK_SECONDS * rate)
    resamplers: list[av.AudioResampler] = []
    position = 0
    pending: list[Samples] = []
    waiting = 0
    for block in blocks:
        samples = block.data
        if not resamplers:
            skip = (-block.position) % step
            if skip >= samples.shape[1]:
                continue
            samples = samples[:, skip:]
            position = (block.position + skip) * TARGET_RATE // rate
            resamplers = [
                av.AudioResampler(format="fltp", layout="mono", rate=TARGET_RATE)
                for _ in range(rows)
            ]
        pending.append(samples)
        waiting += samples.shape[1]
        if waiting >= chunk:
            joined = np.concatenate(pending, axis=1)
            pending, waiting = [], 0
            # Every resampler gives out the same count for the same input count.
            out = np.stack(
                [
                    _resample_once(one, row, rate)
                    for one, row in zip(resamplers, joined, strict=True)
                ]
            )
            yield position, out
            position += out.shape[1]
    if resamplers:
        rest = np.concatenate(pending, axis=1) if pending else np.zeros((rows, 0), np.float32)
        tails = [
            np.concatenate(
                [
                    _resample_once(resampler, row, rate) if len(row) else _EMPTY,
                    _joined(resampler.resample(None)),
                ]
            )
            for resampler, row in zip(resamplers, rest, strict=True)
        ]
        yield position, np.stack(tails)


def _resample_once(resampler: av.AudioResampler, samples: Samples, rate: int) -> Samples:
    frame = AudioFrame.from_ndarray(samples[np.newaxis], format="fltp", layout="mono")
    frame.sample_rate = rate
    return _joined(resampler.resample(frame))


def _joined(frames: list[AudioFrame]) -> Samples:
    if not frames:
        return _EMPTY
    return np.concatenate([frame.to_ndarray()[0] for frame in frames]).astype(
        np.float32, copy=False
    )


def native_blocks(
    path: Path, info: AudioInfo, rows: Sequence[int], start: float, native_stop: int | None
) -> Iterator[_Block]:
    """Blocks of the asked channels from a little before `start` up to at least `native_stop` (or the end)."""
    if info.format is AudioFormat.LPCM:
        return _lpcm_blocks(path, info, rows, start, native_stop)
    return _container_blocks(path, info, rows, start, native_stop)


def _lpcm_blocks(
    path: Path, info: AudioInfo, rows: Sequence[int], start: float, native_stop: int | None
) -> Iterator[_Block]:
    rate, channels = info.sample_rate, info.channels
    frame_bytes = 2 * channels
    total = path.stat().st_size // frame_bytes
    stop = total if native_stop is None else min(total, native_stop)
    position = max(0, math.floor((start - _PREROLL_SECONDS[0]) * rate))
    block = math.ceil(_LPCM_BLOCK_SECONDS * rate)
    with path.open("rb") as file:
        file.seek(position * frame_bytes)
        while position < stop:
            raw = file.read(min(block, stop - position) * frame_bytes)
            count = len(raw) // frame_bytes
            if count == 0:
                return
            interleaved = np.frombuffer(raw, dtype="<i2", count=count * channels).reshape(
                count, channels
            )
            data = interleaved[:, list(rows)].T.astype(np.float32) * np.float32(1 / 32768)
            yield _Block(position, data)
            position += count


def _container_blocks(
    path: Path, info: AudioInfo, rows: Sequence[int], start: float, native_stop: int | None
) -> Iterator[_Block]:
    settled = math.floor((start - _SETTLE_SECONDS) * info.sample_rate)
    for preroll in _PREROLL_SECONDS:
        if start <= preroll:
            break
        with open_container(path, info.format) as container:
            blocks = _placed_blocks(container, info, rows, start - preroll, native_stop)
            try:
                head = next(blocks, None)
            except _Unplaceable:
                break
            if head is None:
                return
            if head.position <= settled:
                yield head
                yield from blocks
                return
            blocks.close()
    with open_container(path, info.format) as container:
        yield from _placed_blocks(container, info, rows, None, native_stop)


def _placed_blocks(
    container: InputContainer,
    info: AudioInfo,
    rows: Sequence[int],
    seek_seconds: float | None,
    native_stop: int | None,
) -> Generator[_Block, None, None]:
    """Decoded frames as blocks at their place in the file, from `seek_seconds` (None: the beginning)."""
    stream = first_audio_stream(container, info.format)
    rate = info.sample_rate
    origin = stream.start_time or 0
    time_base = stream_time_base(stream)
    # Integer arithmetic: a Fraction per frame costs more than decoding an Opus frame.
    numerator, denominator = time_base.numerator * rate, time_base.denominator
    if seek_seconds is not None:
        container.seek(origin + int(seek_seconds / time_base), stream=stream)
    position: int | None = None if seek_seconds is not None else 0
    tolerance = max(1, rate // 1000)
    largest_gap = _MAX_GAP_SECONDS * rate
    for frame in _frames(container, stream):
        if frame.sample_rate != rate:
            raise InvalidArgument(
                f"the audio changes its sample rate at {(position or 0) / rate:.2f} s; "
                "re-encode it with one sample rate throughout"
            )
        data = _channels(frame, rows)
        placed = None
        if frame.pts is not None:
            placed = ((frame.pts - origin) * numerator * 2 + denominator) // (2 * denominator)
        if position is None:
            if placed is None:
                raise _Unplaceable
            position = placed
        elif placed is not None and tolerance < abs(placed - position) <= largest_gap:
            if placed > position:
                yield _Block(position, np.zeros((len(rows), placed - position), dtype=np.float32))
                position = placed
            else:
                data = data[:, position - placed :]
        if data.shape[1]:
            yield _Block(position, data)
            position += data.shape[1]
        if native_stop is not None and position >= native_stop:
            return
    reached = position if position is not None else math.floor((seek_seconds or 0.0) * rate)
    _check_not_cut_short(info, reached / rate, native_stop)


def _check_not_cut_short(info: AudioInfo, reached: float, native_stop: int | None) -> None:
    """Refuse audio that stops well before its header says it does: a truncated or damaged file."""
    expected = info.duration_seconds
    if native_stop is not None:
        expected = min(expected, native_stop / info.sample_rate)
    if reached < expected - max(_SHORTFALL_SECONDS, _SHORTFALL_SHARE * info.duration_seconds):
        raise InvalidArgument(
            f"the audio could not be decoded at {reached:.2f} s: it stops there, but the file says it "
            f"lasts {info.duration_seconds:.2f} s; the file is truncated or damaged"
        )


def _frames(container: InputContainer, stream: AudioStream) -> Iterator[AudioFrame]:
    """Decoded frames; a damaged packet is skipped, many in a row refuse the file."""
    pts = stream.start_time or 0
    bad = 0
    decoded = False
    last_error: av.FFmpegError | None = None
    try:
        for packet in container.demux(stream):
            pts = pts if packet.pts is None else packet.pts
            try:
                frames = stream.decode(packet)
            except av.FFmpegError as error:
                bad += 1
                last_error = error
                if bad > _MAX_BAD_PACKETS:
                    raise _undecodable(stream, pts, error) from error
                continue
            bad = 0
            decoded = decoded or bool(frames)
            yield from frames
    except av.FFmpegError as error:
        raise _undecodable(stream, pts, error) from error
    if not decoded and last_error is not None:
        raise _undecodable(stream, pts, last_error) from last_error


def _undecodable(stream: AudioStream, pts: int, error: av.FFmpegError) -> InvalidArgument:
    seconds = max(0.0, float((pts - (stream.start_time or 0)) * stream_time_base(stream)))
    return InvalidArgument(
        f"the audio could not be decoded at {seconds:.2f} s: {error_detail(error)}"
    )


def _channels(frame: AudioFrame, rows: Sequence[int]) -> Samples:
    """The asked channels of a frame as float32 in [-1, 1], one row each, whatever the sample format.

    A channel past the frame's own count (a mono stretch in a stereo MP3) repeats its last channel. Planes are
    read in place: `to_ndarray` copies every channel and costs more than the decoding.
    """
    fmt = frame.format
    dtype = np.dtype(_SAMPLE_TYPES[fmt.packed.name])
    count = frame.layout.nb_channels
    picked = [min(row, count - 1) for row in rows]
    if fmt.is_planar:
        raw = np.stack(
            [np.frombuffer(memoryview(frame.planes[i]), dtype, count=frame.samples) for i in picked]
        )
    else:
        packed = np.frombuffer(memoryview(frame.planes[0]), dtype, count=frame.samples * count)
        raw = packed.reshape(-1, count)[:, picked].T
    if raw.dtype.kind == "f":
        return raw.astype(np.float32)
    offset, scale = _INTEGER_SCALES[raw.dtype.itemsize if raw.dtype.kind == "i" else 0]
    samples: Samples = (raw.astype(np.float32) - np.float32(offset)) * np.float32(1 / scale)
    return samples
