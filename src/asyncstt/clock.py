"""Time: the wall clock, in one place so that tests can pass their own, and datetimes kept the store's way."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """`value` in UTC, as the database's columns keep it; ValueError for a naive datetime, which the database
    would refuse too (the in-memory twins check it the same way)."""
    if value.utcoffset() is None:
        raise ValueError(f"the store keeps only tz-aware datetimes, got naive {value.isoformat()}")
    return value.astimezone(UTC)
