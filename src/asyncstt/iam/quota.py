"""Request quotas per service account, counted in fixed windows aligned to the epoch.

The counters live in the database (`QuotaCounter`), so every API process of a deployment spends the same quota.
"""

from __future__ import annotations

import math
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
        count = self._counter.count_request(
            account_id, kind.value, datetime.fromtimestamp(start, UTC), now
        )
        limit = self.limit(kind)
        if count > limit:
            retry_after = max(1, math.ceil(start + window.seconds - epoch))
            raise ResourceExhausted(
                f"quota exceeded: service account {account_id} may send {limit} {window.what} "
                f"per {window.unit}; retry in {retry_after} s",
                retry_after_seconds=retry_after,
            )
