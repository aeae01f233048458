"""SRT and WebVTT, written from the cues of a transcript.

On a multichannel transcript each cue names its channel, 1-based as people count: SRT starts the cue's first
line with `[1]`, WebVTT wraps its text in a `<v Speaker 1>` voice span. A mono transcript's cues carry no label.
An empty transcript is an empty SRT file and a WebVTT file with its header alone.
"""

from __future__ import annotations

import html

from asyncstt.recognition import Transcript
from asyncstt.subtitles.cue import Cue, cues, label


def render_srt(transcript: Transcript) -> str:
    """The transcript as SubRip text: numbered cues with `HH:MM:SS,mmm` times, a blank line after each."""
    labelled = transcript.channels > 1
    blocks = []
    for number, cue in enumerate(cues(transcript), start=1):
        lines = list(cue.lines)
        if labelled:
            lines[0] = f"{label(cue.channel)} {lines[0]}"
        times = f"{_timestamp(cue.start, ',')} --> {_timestamp(cue.end, ',')}"
        blocks.append("\n".join([str(number), times, *lines]) + "\n")
    return "\n".join(blocks)


def render_vtt(transcript: Transcript) -> str:
    """The transcript as WebVTT text: the `WEBVTT` header, then cues with `HH:MM:SS.mmm` times."""
    labelled = transcript.channels > 1
    blocks = ["WEBVTT\n"]
    for cue in cues(transcript):
        text = "\n".join(html.escape(line, quote=False) for line in cue.lines)
        if labelled:
            text = f"<v {_speaker(cue)}>{text}"
        times = f"{_timestamp(cue.start, '.')} --> {_timestamp(cue.end, '.')}"
        blocks.append(f"{times}\n{text}\n")
    return "\n".join(blocks)


def _speaker(cue: Cue) -> str:
    return f"Speaker {cue.channel + 1}"


def _timestamp(seconds: float, separator: str) -> str:
    # Rounding each time on its own keeps the order of times, so cues that did not overlap still do not.
    total_ms = max(round(seconds * 1000), 0)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{separator}{ms:03d}"
