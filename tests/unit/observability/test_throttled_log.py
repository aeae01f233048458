"""Events caused by clients logged a few times a minute, each line saying how many were not."""

from __future__ import annotations

import logging

import pytest

from asyncstt.observability.logs import ThrottledLog


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_interval_then_a_line_with_how_many_were_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    throttled = ThrottledLog(
        logging.getLogger("test.throttled"), logging.WARNING, "refused %s", 10.0, clock
    )
    with caplog.at_level(logging.INFO, logger="test.throttled"):
        for peer in ("a", "b", "c"):
            throttled(peer)
        clock.now = 9.9
        throttled("d")
        clock.now = 10.0
        throttled("e")
        clock.now = 25.0
        throttled("f")

    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "refused a"),
        (logging.WARNING, "refused e (and 3 more like it since the last such line)"),
        (logging.WARNING, "refused f"),
    ]
