"""One operation's work: plan slices, recognise each on a worker, assemble the transcript."""

from __future__ import annotations
