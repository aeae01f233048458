"""The command line: `asyncstt serve`, `asyncstt transcribe` and the administration commands."""

from __future__ import annotations
