"""Retries wait 10 s, then twice as long each time, at most an hour, until a day after the first attempt."""

from __future__ import annotations

from asyncstt.settings import WebhookSettings
from asyncstt.webhooks.backoff import next_attempt, retry_delay
from tests.factories import T0, at

SETTINGS = WebhookSettings()


def test_the_delay_doubles_from_ten_seconds_up_to_an_hour() -> None:
    delays = [retry_delay(attempts, SETTINGS) for attempts in range(1, 12)]
    assert delays == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
    assert retry_delay(10_000, SETTINGS) == 3600


def test_the_schedule_follows_the_settings() -> None:
    quick = WebhookSettings(backoff_seconds=0.5, max_backoff_seconds=3)
    assert [retry_delay(n, quick) for n in range(1, 6)] == [0.5, 1, 2, 3, 3]


def test_the_next_attempt_is_now_plus_the_delay() -> None:
    assert next_attempt(1, T0, at(1), SETTINGS) == at(11)
    assert next_attempt(3, T0, at(100), SETTINGS) == at(140)


def test_a_delivery_is_given_up_once_the_next_attempt_would_fall_a_day_after_the_first() -> None:
    day = 24 * 3600
    assert next_attempt(30, T0, at(day - 3601), SETTINGS) == at(day - 1)
    assert next_attempt(30, T0, at(day - 3600), SETTINGS) is None
    assert next_attempt(30, T0, at(day + 5), SETTINGS) is None


def test_how_many_attempts_a_day_of_failures_makes() -> None:
    now, attempts = T0, 1
    while (due := next_attempt(attempts, T0, now, SETTINGS)) is not None:
        now, attempts = due, attempts + 1
    # 10 s … 2560 s (9 waits, 5110 s), then hourly to the end of the day.
    assert attempts == 1 + 9 + (24 * 3600 - 5110) // 3600
