"""Transcripts built from word lists for the subtitle tests."""

from __future__ import annotations

from asyncstt.recognition import Transcript, Utterance, Word


def utterance(channel: int, *words: tuple[str, float, float], text: str | None = None) -> Utterance:
    """An utterance of `(text, start, end)` words; its shown text is theirs unless `text` says otherwise."""
    timed = tuple(Word(word, start, end) for word, start, end in words)
    spoken = " ".join(word.text for word in timed)
    return Utterance(
        channel=channel,
        start=timed[0].start if timed else 0.0,
        end=timed[-1].end if timed else 0.0,
        words=timed,
        raw_text=spoken,
        text=spoken if text is None else text,
    )


def steady(channel: int, words: list[str], start: float, step: float) -> Utterance:
    """One utterance of `words` spoken back to back, `step` seconds each, from `start`."""
    return utterance(
        channel,
        *((word, start + i * step, start + (i + 1) * step) for i, word in enumerate(words)),
    )


def transcript(*utterances: Utterance, channels: int = 1) -> Transcript:
    return Transcript(utterances=utterances, channels=channels)
