"""Durations and times as the administration commands read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from asyncstt.cli.arguments import parse_duration, parse_timestamp
from asyncstt.errors import InvalidArgument


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        (" 1D12h ", timedelta(days=1, hours=12)),
    ],
)
def test_durations_are_numbers_with_units(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "1.5h", "1d 12h", "10y", "-1d"])
def test_other_durations_are_refused_with_the_forms_that_work(text: str) -> None:
    with pytest.raises(InvalidArgument, match=r"write a number and a unit: 30d, 12h"):
        parse_duration(text)


def test_a_time_without_a_zone_is_utc_and_one_with_a_zone_keeps_it() -> None:
    assert parse_timestamp("2026-03-01T12:00:00") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    moment = parse_timestamp("2026-03-01T12:00:00+03:00")
    assert moment.utcoffset() == timedelta(hours=3)
    assert moment == datetime(2026, 3, 1, 12, tzinfo=timezone(timedelta(hours=3)))


def test_a_time_that_is_not_iso_8601_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"invalid time 'yesterday'; write ISO 8601"):
        parse_timestamp("yesterday")
