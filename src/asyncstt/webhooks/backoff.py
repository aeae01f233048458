"""When a failed delivery is tried again: exponential backoff, capped, until the delivery is too old."""

from __future__ import annotations

from datetime import datetime, timedelta

from asyncstt.settings import WebhookSettings


def retry_delay(attempts: int, settings: WebhookSettings) -> float:
    """Seconds to wait after failed attempt number `attempts` (1 for the first): the base, doubled each time,
    at most `max_backoff_seconds`."""
    # The exponent is capped before the power: after a day of retries it would overflow a float.
    exponent = min(max(attempts - 1, 0), 64)
    return float(min(settings.backoff_seconds * 2.0**exponent, settings.max_backoff_seconds))


def next_attempt(
    attempts: int, first_attempt_at: datetime, now: datetime, settings: WebhookSettings
) -> datetime | None:
    """When to try a delivery again after failed attempt number `attempts`; None when that would be
    `max_age_seconds` or more after its first attempt: then it is given up."""
    due = now + timedelta(seconds=retry_delay(attempts, settings))
    if due >= first_attempt_at + timedelta(seconds=settings.max_age_seconds):
        return None
    return due
