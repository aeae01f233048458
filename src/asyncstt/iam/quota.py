"""Request quotas per service account, counted in fixed windows aligned to the epoch.

The counters live in the database (`QuotaCounter`), so every API process of a deployment spends the same quota.
A process does not write the counter for every request: it reserves part of what is left of a window at once
(at most a sixteenth, one request at a time near the limit) and hands the reservation out from memory, and once
a window's count has passed the limit it refuses the window's further requests without asking again. So the
limit is never exceeded, across any number of processes; what a process reserved and did not use (it stopped,
or its callers went quiet) is spent all the same, so another process may refuse a request while up to a
sixteenth of the remainder per process is still reserved elsewhere. Small quotas are counted one request at a
time, exactly.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from asyncstt.clock import utcnow
from asyncstt.errors import ResourceExhausted
from asyncstt.iam.counters import QuotaCounter
from asyncstt.settings import QuotaSettings


class QuotaKind(StrEnum):
    """What a request spends; the value is the counter's name in the store."""

    #: v2 longRunningRecognize and v3 recognizeFileAsync.
    SUBMIT = "submit"
    #: Polls and cancels of v2 operations.
    V2_POLL = "v2_poll"
    #: Polls, cancels, getRecognition and deleteRecognition of v3 operations.
    V3_POLL = "v3_poll"


@dataclass(frozen=True)
class _Window:
    seconds: int
    unit: str
    what: str


#: A process reserves at most this fraction (1/RESERVED_SHARE) of what is left of a window's quota at once.
RESERVED_SHARE = 16


@dataclass
class _Allowance:
    """What this process holds of one account's window of one quota."""

    window_start: float
    #: Requests reserved in the shared counter and not handed out yet.
    left: int = 0
    #: The shared count after this process's latest reservation.
    seen: int = 0
    #: The shared count has reached the limit: once `left` is spent, every request of the window is refused.
    exhausted: bool = False


_WINDOWS = {
    QuotaKind.SUBMIT: _Window(3600, "hour", "recognition requests"),
    QuotaKind.V2_POLL: _Window(3600, "hour", "operation status checks of API v2"),
    QuotaKind.V3_POLL: _Window(1, "second", "operation status checks of API v3"),
}


class QuotaLimiter:
    def __init__(
        self,
        counter: QuotaCounter,
        settings: QuotaSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._counter = counter
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._allowances: dict[tuple[str, QuotaKind], _Allowance] = {}

    def limit(self, kind: QuotaKind) -> int:
        if kind is QuotaKind.SUBMIT:
            return self._settings.submits_per_hour
        if kind is QuotaKind.V2_POLL:
            return self._settings.v2_polls_per_hour
        return self._settings.v3_polls_per_second

    def check(self, account_id: str, kind: QuotaKind) -> None:
        """Spend one request of `kind` for `account_id`; ResourceExhausted when the window's quota is spent."""
        if not self._settings.enabled:
            return
        window = _WINDOWS[kind]
        now = self._clock()
        epoch = now.timestamp()
        start = math.floor(epoch / window.seconds) * window.seconds
        limit = self.limit(kind)
        key = (account_id, kind)
        with self._lock:
            allowance = self._allowances.get(key)
            if allowance is None or allowance.window_start != start:
                allowance = self._allowances[key] = _Allowance(start)
            if allowance.left > 0:
                allowance.left -= 1
                return
            if allowance.exhausted:
                raise self._refusal(account_id, kind, start, epoch)
            amount = max(1, (limit - allowance.seen) // RESERVED_SHARE)
        count = self._counter.count_request(
            account_id, kind.value, datetime.fromtimestamp(start, UTC), now, amount
        )
        # The reservation holds the counts (count - amount, count]; those up to the limit may be handed out.
        granted = max(0, min(amount, limit - (count - amount)))
        with self._lock:
            allowance.seen = max(allowance.seen, count)
            if granted < amount:
                allowance.exhausted = True
            if granted:
                allowance.left += granted - 1
        if not granted:
            raise self._refusal(account_id, kind, start, epoch)

    def _refusal(
        self, account_id: str, kind: QuotaKind, start: float, epoch: float
    ) -> ResourceExhausted:
        window = _WINDOWS[kind]
        retry_after = max(1, math.ceil(start + window.seconds - epoch))
        return ResourceExhausted(
            f"quota exceeded: service account {account_id} may send {self.limit(kind)} "
            f"{window.what} per {window.unit}; retry in {retry_after} s",
            retry_after_seconds=retry_after,
        )
