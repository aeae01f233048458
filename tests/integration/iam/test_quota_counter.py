"""The QuotaCounter contract, run against every implementation: in memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from asyncstt.iam.counters import QuotaCounter
from asyncstt.iam.memory_counter import InMemoryQuotaCounter
from asyncstt.iam.sql_counter import SqlQuotaCounter
from asyncstt.store.sql import SqlStore
from tests.factories import at
from tests.support.postgres import STORE_URL_FIXTURES

pytestmark = pytest.mark.integration

MOSCOW = timezone(timedelta(hours=3))


@pytest.fixture(params=["memory", *STORE_URL_FIXTURES])
def counter(request: pytest.FixtureRequest) -> Iterator[QuotaCounter]:
    if request.param == "memory":
        yield InMemoryQuotaCounter()
        return
    store = SqlStore(request.getfixturevalue(STORE_URL_FIXTURES[request.param]))
    yield SqlQuotaCounter(store)
    store.close()


def test_quota_windows_count_independently(counter: QuotaCounter) -> None:
    window, next_window = at(0), at(3600)
    assert [counter.count_request("sa1", "submit", window, at(1)) for _ in range(3)] == [1, 2, 3]
    assert counter.count_request("sa2", "submit", window, at(2)) == 1
    assert counter.count_request("sa1", "v2_poll", window, at(2)) == 1
    assert counter.count_request("sa1", "submit", next_window, at(3601)) == 1
    assert counter.count_request("sa1", "submit", window, at(5)) == 4
    # The same instant written in another offset is the same window.
    assert counter.count_request("sa1", "submit", window.astimezone(MOSCOW), at(6)) == 5


def test_a_reservation_adds_its_amount_at_once(counter: QuotaCounter) -> None:
    window = at(0)
    assert counter.count_request("sa1", "v2_poll", window, at(1), amount=156) == 156
    assert counter.count_request("sa1", "v2_poll", window, at(2)) == 157
    assert counter.count_request("sa1", "v2_poll", window, at(3), amount=146) == 303


def test_long_ended_quota_windows_are_forgotten(counter: QuotaCounter) -> None:
    old, recent = at(0), at(2 * 86400)
    counter.count_request("sa1", "submit", old, at(1))
    counter.count_request("sa1", "submit", old, at(2))
    counter.count_request("sa1", "submit", recent, recent)
    later = at(3 * 86400 + 120)
    counter.count_request("sa1", "v3_poll", later, later)
    assert counter.count_request("sa1", "submit", recent, later) == 2
    assert counter.count_request("sa1", "submit", old, later) == 1


def test_a_naive_window_start_is_refused(counter: QuotaCounter) -> None:
    # The database's column refuses it while binding, which SQLAlchemy reports as a StatementError.
    with pytest.raises((ValueError, StatementError), match="only tz-aware datetimes, got naive"):
        counter.count_request("sa1", "submit", datetime(2025, 1, 1), at(1))
