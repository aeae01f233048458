"""How often the benchmarks poll an operation: rarely while most of its audio is still to come, often near its
end, so the client costs the measured server little CPU and still sees the end at once."""

from __future__ import annotations

from typing import Any

import pytest
from bench.run import POLL_LONGEST_SECONDS, POLL_SHORTEST_SECONDS, poll_pause


def running(processed: float, total: float) -> dict[str, Any]:
    return {"done": False, "metadata": {"processedSeconds": processed, "totalSeconds": total}}


def test_a_fresh_operation_is_polled_often() -> None:
    assert poll_pause({"done": False, "id": "x"}, 0.0) == POLL_SHORTEST_SECONDS
    assert poll_pause(running(0.0, 0.0), 0.2) == POLL_SHORTEST_SECONDS


def test_the_pause_grows_with_the_wait_up_to_half_a_second() -> None:
    pauses = [poll_pause(running(10.0, 600.0), waited) for waited in (1.0, 4.0, 8.0, 30.0, 300.0)]
    assert pauses == sorted(pauses)
    assert pauses[0] == POLL_SHORTEST_SECONDS
    assert POLL_SHORTEST_SECONDS < pauses[2] < POLL_LONGEST_SECONDS
    assert pauses[-1] == POLL_LONGEST_SECONDS


@pytest.mark.parametrize("processed", [540.0, 599.0, 600.0])
def test_near_the_end_it_is_polled_often_again(processed: float) -> None:
    assert poll_pause(running(processed, 600.0), 300.0) == POLL_SHORTEST_SECONDS
