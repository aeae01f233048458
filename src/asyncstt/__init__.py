"""asyncstt: self-hosted asynchronous speech recognition speaking the SpeechKit async API."""

from __future__ import annotations

__version__ = "0.1.0"
