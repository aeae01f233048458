"""One operation carried from the queue to its result: the claim loop, one operation's run, leases, retention."""

from __future__ import annotations
