from __future__ import annotations

from datetime import UTC, datetime

import pytest

from asyncstt.errors import ResourceExhausted
from asyncstt.iam.memory_counter import InMemoryQuotaCounter
from asyncstt.iam.quota import QuotaKind, QuotaLimiter
from asyncstt.settings import QuotaSettings
from tests.factories import ManualClock

# 10:15:07.250 UTC: 44 min 52.75 s before the hour ends.
START = datetime(2025, 3, 2, 10, 15, 7, 250000, tzinfo=UTC)
SETTINGS = QuotaSettings(submits_per_hour=3, v2_polls_per_hour=4, v3_polls_per_second=2)


class CountedCounter(InMemoryQuotaCounter):
    """The real counter, remembering which counters it was asked to bump."""

    def __init__(self) -> None:
        super().__init__()
        self.counted: list[tuple[str, str, datetime]] = []

    def count_request(self, subject: str, quota: str, window_start: datetime, now: datetime) -> int:
        self.counted.append((subject, quota, window_start))
        return super().count_request(subject, quota, window_start, now)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def limiter(clock: ManualClock, settings: QuotaSettings = SETTINGS) -> QuotaLimiter:
    return QuotaLimiter(InMemoryQuotaCounter(), settings, clock)


def test_submits_up_to_the_limit_pass_and_the_next_is_refused_until_the_hour_ends(
    clock: ManualClock,
) -> None:
    quota = limiter(clock)
    for _ in range(3):
        quota.check("sa1", QuotaKind.SUBMIT)
    with pytest.raises(ResourceExhausted) as refused:
        quota.check("sa1", QuotaKind.SUBMIT)
    assert refused.value.retry_after_seconds == 44 * 60 + 53
    assert "3 recognition requests per hour" in refused.value.message
    assert "sa1" in refused.value.message
    clock.advance(44 * 60 + 52.75)
    quota.check("sa1", QuotaKind.SUBMIT)


def test_accounts_and_kinds_are_counted_apart(clock: ManualClock) -> None:
    quota = limiter(clock)
    for _ in range(3):
        quota.check("sa1", QuotaKind.SUBMIT)
    quota.check("sa2", QuotaKind.SUBMIT)
    for _ in range(4):
        quota.check("sa1", QuotaKind.V2_POLL)
    with pytest.raises(ResourceExhausted, match="4 operation status checks of API v2 per hour"):
        quota.check("sa1", QuotaKind.V2_POLL)


def test_v3_polls_are_counted_per_second_with_retry_after_at_least_one(
    clock: ManualClock,
) -> None:
    quota = limiter(clock)
    quota.check("sa1", QuotaKind.V3_POLL)
    quota.check("sa1", QuotaKind.V3_POLL)
    with pytest.raises(ResourceExhausted, match="per second") as refused:
        quota.check("sa1", QuotaKind.V3_POLL)
    assert refused.value.retry_after_seconds == 1
    clock.advance(0.75)
    quota.check("sa1", QuotaKind.V3_POLL)


def test_windows_are_aligned_to_the_epoch(clock: ManualClock) -> None:
    counter = CountedCounter()
    QuotaLimiter(counter, SETTINGS, clock).check("sa1", QuotaKind.SUBMIT)
    hour = datetime(2025, 3, 2, 10, tzinfo=UTC)
    assert counter.counted == [("sa1", "submit", hour)]
    assert counter.count_request("sa1", "submit", hour, clock()) == 2


def test_disabled_quotas_count_nothing(clock: ManualClock) -> None:
    counter = CountedCounter()
    quota = QuotaLimiter(counter, QuotaSettings(enabled=False, submits_per_hour=0), clock)
    for _ in range(5):
        quota.check("sa1", QuotaKind.SUBMIT)
    assert counter.counted == []
