"""Executor priority of slices: standard slices first, deferred ones rising with age to standard by a deadline."""

from __future__ import annotations

from datetime import datetime

from asyncstt.recognition import Priority

#: Priority of every standard slice; a deferred slice reaches it only at its deadline.
STANDARD_SLICE_PRIORITY = 100


def slice_priority(
    priority: Priority, created_at: datetime, now: datetime, deadline_seconds: float
) -> int:
    """A standard slice's priority, or a deferred one's: from 0 when just submitted, rising linearly with the
    operation's age to the standard priority at `deadline_seconds`.

    Below the deadline a deferred slice stays under every standard one, so standard work submitted later still
    overtakes it; at the deadline it competes as standard, so it cannot wait forever.
    """
    if priority is Priority.STANDARD or deadline_seconds <= 0:
        return STANDARD_SLICE_PRIORITY
    age = max(0.0, (now - created_at).total_seconds())
    return min(STANDARD_SLICE_PRIORITY, int(STANDARD_SLICE_PRIORITY * age / deadline_seconds))
