"""InMemoryQuotaCounter: the quota counter in process memory, for unit tests and demos.

Same semantics as `SqlQuotaCounter`, but counts only within one process.
"""

from __future__ import annotations

import threading
from datetime import datetime

from asyncstt.clock import utc
from asyncstt.iam.counters import QUOTA_COUNTER_RETENTION, QUOTA_PRUNE_INTERVAL


class InMemoryQuotaCounter:
    """`QuotaCounter` in a dict behind a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, str, datetime], int] = {}
        self._pruned_at: datetime | None = None

    def count_request(
        self, subject: str, quota: str, window_start: datetime, now: datetime, amount: int = 1
    ) -> int:
        key = (subject, quota, utc(window_start))
        with self._lock:
            if self._pruned_at is None or now - self._pruned_at >= QUOTA_PRUNE_INTERVAL:
                self._pruned_at = now
                cutoff = now - QUOTA_COUNTER_RETENTION
                for stale in [k for k in self._counters if k[2] < cutoff]:
                    del self._counters[stale]
            count = self._counters.get(key, 0) + amount
            self._counters[key] = count
            return count
