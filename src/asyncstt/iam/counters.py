"""The quota counter port: atomic fixed-window request counters, and how long a window's counter is kept.

`SqlQuotaCounter` (SQLite or PostgreSQL) and `InMemoryQuotaCounter` implement it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

#: Counters of windows that started this long before `now` are dropped: no quota window is longer than a day,
#: so such a window ended more than a day ago.
QUOTA_COUNTER_RETENTION = timedelta(days=2)
#: How often, by the `now` of the calls, old counters are looked for.
QUOTA_PRUNE_INTERVAL = timedelta(minutes=1)


class QuotaCounter(Protocol):
    """Atomic fixed-window counters shared by every API process that uses the same database."""

    def count_request(
        self, subject: str, quota: str, window_start: datetime, now: datetime, amount: int = 1
    ) -> int:
        """Add `amount` requests to the counter of (`subject`, `quota`, `window_start`); returns the new count.

        Counters of windows that ended long before `now` may be deleted on the way.
        """
