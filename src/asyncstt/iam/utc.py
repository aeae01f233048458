"""Datetimes as the in-memory twins keep them: in UTC, as the database's columns do, and never naive."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(value: datetime) -> datetime:
    """`value` in UTC; ValueError for a naive datetime, which the database would refuse too."""
    if value.utcoffset() is None:
        raise ValueError(f"the store keeps only tz-aware datetimes, got naive {value.isoformat()}")
    return value.astimezone(UTC)
