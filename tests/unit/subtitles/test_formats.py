from __future__ import annotations

import html
import io
import itertools
from datetime import timedelta

import srt  # type: ignore[import-untyped]
import webvtt

from asyncstt.recognition import Transcript
from asyncstt.subtitles import cues, render_srt, render_vtt
from tests.unit.subtitles.support import steady, transcript, utterance

LONG = "x" * 50
#: Long words, a long pause, more than 7 s of speech and two channels, in one transcript.
STEREO = transcript(
    utterance(0, ("hello", 0.25, 0.5), ("there", 0.6, 1.0), ("again", 2.5, 2.9)),
    utterance(1, ("a", 0.8, 0.9), (LONG, 1.0, 1.5), ("b", 1.6, 1.7), text="A & <b> " + LONG + " b"),
    steady(0, ["word"] * 20, 3.0, 0.5),
    channels=2,
)


def _seconds(moment: timedelta) -> float:
    return moment.total_seconds()


def test_an_empty_transcript_is_an_empty_srt_file() -> None:
    assert render_srt(Transcript()) == ""
    assert list(srt.parse(render_srt(Transcript()))) == []


def test_an_empty_transcript_is_a_webvtt_file_with_its_header_alone() -> None:
    assert render_vtt(Transcript()) == "WEBVTT\n"
    assert webvtt.from_buffer(io.StringIO(render_vtt(Transcript()))).captions == []


def test_mono_srt_has_numbered_cues_without_labels() -> None:
    mono = transcript(utterance(0, ("hello", 0.5, 0.9)), utterance(0, ("bye", 3661.25, 3662.0)))
    assert render_srt(mono) == (
        "1\n00:00:00,500 --> 00:00:00,900\nhello\n\n2\n01:01:01,250 --> 01:01:02,000\nbye\n"
    )


def test_mono_vtt_has_cues_without_voices() -> None:
    mono = transcript(utterance(0, ("hello", 0.5, 0.9)))
    assert render_vtt(mono) == "WEBVTT\n\n00:00:00.500 --> 00:00:00.900\nhello\n"


def test_stereo_srt_labels_each_cue_with_its_channel() -> None:
    stereo = transcript(
        utterance(0, ("left", 0.0, 0.5)), utterance(1, ("right", 0.2, 0.7)), channels=2
    )
    assert render_srt(stereo) == (
        "1\n00:00:00,000 --> 00:00:00,500\n[1] left\n\n"
        "2\n00:00:00,200 --> 00:00:00,700\n[2] right\n"
    )


def test_stereo_vtt_puts_each_cue_in_its_speakers_voice_span() -> None:
    stereo = transcript(
        utterance(0, ("left", 0.0, 0.5)), utterance(1, ("right", 0.2, 0.7)), channels=2
    )
    assert render_vtt(stereo) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:00.500\n<v Speaker 1>left\n\n"
        "00:00:00.200 --> 00:00:00.700\n<v Speaker 2>right\n"
    )


def test_srt_parses_back_with_the_times_and_text_of_every_cue() -> None:
    expected = cues(STEREO)
    parsed = list(srt.parse(render_srt(STEREO)))
    assert len(parsed) == len(expected) > 4
    for number, (block, cue) in enumerate(zip(parsed, expected, strict=True), start=1):
        assert block.index == number
        assert (_seconds(block.start), _seconds(block.end)) == (
            round(cue.start, 3),
            round(cue.end, 3),
        )
        label = f"[{cue.channel + 1}] "
        assert block.content == label + "\n".join(cue.lines)
    assert any(LONG in block.content.split("\n") for block in parsed)


def test_vtt_parses_back_with_the_times_text_and_voice_of_every_cue() -> None:
    expected = cues(STEREO)
    parsed = webvtt.from_buffer(io.StringIO(render_vtt(STEREO))).captions
    assert len(parsed) == len(expected) > 4
    for caption, cue in zip(parsed, expected, strict=True):
        assert caption.start_time.in_seconds() * 1000 + caption.start_time.milliseconds == round(
            cue.start * 1000
        )
        assert caption.end_time.in_seconds() * 1000 + caption.end_time.milliseconds == round(
            cue.end * 1000
        )
        assert caption.voice == f"Speaker {cue.channel + 1}"
        assert html.unescape(caption.text) == "\n".join(cue.lines)
    assert "A &amp; &lt;b&gt;" in parsed[1].text


def test_no_cue_of_a_channel_overlaps_the_next_once_rendered() -> None:
    parsed = list(srt.parse(render_srt(STEREO)))
    for channel in ("[1]", "[2]"):
        own = [block for block in parsed if block.content.startswith(channel)]
        assert all(a.end <= b.start for a, b in itertools.pairwise(own))
        assert all(b.end - b.start <= timedelta(seconds=7) for b in own)
