"""Placeholder until the audio fixtures land."""

from __future__ import annotations
