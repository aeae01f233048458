"""Subtitles of a transcript: SRT and WebVTT cues timed by its words, per channel."""

from __future__ import annotations

from asyncstt.subtitles.cue import Cue, cues
from asyncstt.subtitles.formats import render_srt, render_vtt

__all__ = ["Cue", "cues", "render_srt", "render_vtt"]
