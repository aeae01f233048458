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
        self.amounts: list[int] = []

    def count_request(
        self, subject: str, quota: str, window_start: datetime, now: datetime, amount: int = 1
    ) -> int:
        self.counted.append((subject, quota, window_start))
        self.amounts.append(amount)
        return super().count_request(subject, quota, window_start, now, amount)


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


def test_a_large_quota_is_reserved_in_shrinking_parts_and_never_exceeded(
    clock: ManualClock,
) -> None:
    counter = CountedCounter()
    settings = QuotaSettings(v2_polls_per_hour=1600)
    quota = QuotaLimiter(counter, settings, clock)
    for _ in range(100):
        quota.check("sa1", QuotaKind.V2_POLL)
    # One write for the first hundred: a sixteenth of the 1600 left.
    assert counter.amounts == [100]
    for _ in range(1500):
        quota.check("sa1", QuotaKind.V2_POLL)
    with pytest.raises(ResourceExhausted):
        quota.check("sa1", QuotaKind.V2_POLL)
    # Ever smaller parts down to single requests near the limit, then the one that found nothing left.
    assert counter.amounts == sorted(counter.amounts, reverse=True)
    assert counter.amounts[-2:] == [1, 1]
    assert len(counter.amounts) < 1600 / 10
    # The exhausted window is refused from memory, without another write.
    writes = len(counter.amounts)
    with pytest.raises(ResourceExhausted, match="1600 operation status checks of API v2 per hour"):
        quota.check("sa1", QuotaKind.V2_POLL)
    assert len(counter.amounts) == writes


def test_processes_sharing_a_counter_hand_out_at_most_the_limit(clock: ManualClock) -> None:
    counter = InMemoryQuotaCounter()
    settings = QuotaSettings(submits_per_hour=500)
    processes = [QuotaLimiter(counter, settings, clock) for _ in range(3)]
    served = refused = 0
    for turn in range(900):
        try:
            processes[turn % 3].check("sa1", QuotaKind.SUBMIT)
            served += 1
        except ResourceExhausted:
            refused += 1
    # The reservations one process holds unused keep at most a sixteenth of the remainder from the others.
    assert 500 - 500 // 16 * 3 <= served <= 500
    assert served + refused == 900
    clock.advance(3600)
    processes[1].check("sa1", QuotaKind.SUBMIT)
