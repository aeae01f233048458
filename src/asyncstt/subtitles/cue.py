"""Cutting a transcript into subtitle cues, channel by channel.

A cue holds at most `MAX_LINES` lines of at most `MAX_LINE_CHARS` characters and lasts at most
`MAX_CUE_SECONDS`; a new one starts at each utterance and wherever the speaker pauses longer than
`MAX_PAUSE_SECONDS`. A token longer than a line stands alone on one, never cut. A cue ends no later than the next
cue of its channel starts, so a channel's cues never overlap; on a multichannel transcript the first line leaves
room for the channel's label.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from asyncstt.recognition import Transcript, Utterance
from asyncstt.subtitles.timing import TimedToken, timed_tokens

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_SECONDS = 7.0
MAX_PAUSE_SECONDS = 1.0


@dataclass(frozen=True)
class Cue:
    """One subtitle: its 0-based channel, its times in seconds and its lines of text."""

    channel: int
    start: float
    end: float
    lines: tuple[str, ...]


def label(channel: int) -> str:
    """The speaker label of a multichannel transcript's SRT cue (`[1]` for channel 0), without its space."""
    return f"[{channel + 1}]"


def cues(transcript: Transcript) -> list[Cue]:
    """Every channel's cues, ordered by start time (then channel)."""
    labelled = transcript.channels > 1
    by_channel: dict[int, list[Utterance]] = {}
    for utterance in transcript.utterances:
        by_channel.setdefault(utterance.channel, []).append(utterance)
    every = [
        cue
        for channel, utterances in by_channel.items()
        for cue in _channel_cues(channel, utterances, labelled)
    ]
    return sorted(every, key=lambda cue: (cue.start, cue.channel))


def _channel_cues(channel: int, utterances: list[Utterance], labelled: bool) -> list[Cue]:
    first_line = MAX_LINE_CHARS - (len(label(channel)) + 1 if labelled else 0)
    groups: list[list[list[TimedToken]]] = []
    for utterance in sorted(utterances, key=lambda u: u.start):
        lines: list[list[TimedToken]] = []
        for token in timed_tokens(utterance):
            if lines and _fits(lines, token, first_line):
                _add(lines, token, first_line)
            else:
                lines = [[token]]
                groups.append(lines)
    made = sorted((_cue(channel, lines) for lines in groups), key=lambda cue: cue.start)
    # Clipped to the next cue's start: engines may overlap words at an utterance boundary.
    clipped = [
        Cue(cue.channel, cue.start, max(cue.start, min(cue.end, following.start)), cue.lines)
        for cue, following in itertools.pairwise(made)
    ]
    return clipped + made[-1:]


def _fits(lines: list[list[TimedToken]], token: TimedToken, first_line: int) -> bool:
    """Whether `token` may join the cue whose lines these are."""
    start = lines[0][0].start
    last = lines[-1][-1]
    if token.start - last.end > MAX_PAUSE_SECONDS or token.end - start > MAX_CUE_SECONDS:
        return False
    return len(lines) < MAX_LINES or _joins_line(lines, token, first_line)


def _add(lines: list[list[TimedToken]], token: TimedToken, first_line: int) -> None:
    if _joins_line(lines, token, first_line):
        lines[-1].append(token)
    else:
        lines.append([token])


def _joins_line(lines: list[list[TimedToken]], token: TimedToken, first_line: int) -> bool:
    width = first_line if len(lines) == 1 else MAX_LINE_CHARS
    return len(_text(lines[-1])) + 1 + len(token.text) <= width


def _cue(channel: int, lines: list[list[TimedToken]]) -> Cue:
    start = lines[0][0].start
    end = max(token.end for line in lines for token in line)
    return Cue(
        channel=channel,
        start=start,
        end=min(max(end, start), start + MAX_CUE_SECONDS),
        lines=tuple(_text(line) for line in lines),
    )


def _text(line: list[TimedToken]) -> str:
    return " ".join(token.text for token in line)
