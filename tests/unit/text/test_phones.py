from __future__ import annotations

import pytest

from asyncstt.text.phones import format_phones


@pytest.mark.parametrize(
    ("text", "formatted"),
    [
        # SpeechKit's own example, and the trunk prefix 8 that Russians dial instead of +7.
        ("7 999 123 45 67", "7(999)123-45-67"),
        ("8 999 123 45 67", "8(999)123-45-67"),
        ("+7 999 123-45-67", "+7(999)123-45-67"),
        ("8 800 555 3535", "8(800)555-35-35"),
        ("999 123 45 67", "(999)123-45-67"),
        ("+79991234567", "+7(999)123-45-67"),
        ("555 123 4567", "(555)123-4567"),
        ("1 555 123 4567", "1(555)123-4567"),
        ("call 555-123-4567.", "call (555)123-4567."),
        ("+15551234567", "+1(555)123-4567"),
        ("звоните 8 999 123 45 67 до 18", "звоните 8(999)123-45-67 до 18"),
        # A number before the phone stays a number.
        ("в 2023 8 999 123 45 67", "в 2023 8(999)123-45-67"),
    ],
)
def test_digit_groups_shaped_like_a_phone_number_are_formatted(text: str, formatted: str) -> None:
    assert format_phones(text) == formatted


@pytest.mark.parametrize(
    "text",
    [
        "12 orders",
        "in 2023 and 2024",
        "100 200 3000",
        "099 123 45 67",
        "3,5 10:30 12%",
        "1 2 3 4 5",
        "79991234567",
        "+89991234567",
        "+7 12 34",
        "999 123 45 678",
    ],
)
def test_numbers_that_are_not_phone_numbers_stay(text: str) -> None:
    assert format_phones(text) == text
