"""The load tool's statistics and its bounds (bench/load.py), with a fake request in place of HTTP."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

_PATH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def _load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", _PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


load = _load_module()


class FakeClock:
    """Time that moves only when a request 'takes' it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_percentile_interpolates_between_neighbours() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert load.percentile(values, 0.0) == 1.0
    assert load.percentile(values, 0.5) == 3.0
    assert load.percentile(values, 1.0) == 5.0
    assert load.percentile(values, 0.9) == pytest.approx(4.6)
    assert load.percentile([7.0], 0.99) == 7.0
    assert math.isnan(load.percentile([], 0.5))


def test_percentile_of_one_hundred_values() -> None:
    values = [float(n) for n in range(1, 101)]
    assert load.percentile(values, 0.99) == pytest.approx(99.01)
    assert load.percentile(values, 0.95) == pytest.approx(95.05)


def test_percentile_refuses_a_fraction_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        load.percentile([1.0], 99)


def test_rate_counts_only_successes_and_errors_by_status() -> None:
    result = load.LoadResult(
        wall_seconds=2.0, latencies=[0.01] * 10, statuses=Counter({200: 8, 429: 1, 0: 1})
    )
    assert result.requests == 10
    assert result.rate == 4.0
    assert result.errors == {0: 1, 429: 1}
    summary = result.summary()
    assert summary["errors"] == {"0": 1, "429": 1}
    assert summary["p99_ms"] == 10.0


async def test_the_loop_stops_at_the_request_count() -> None:
    seen: list[tuple[int, int]] = []

    async def send(client: int, index: int) -> int:
        seen.append((client, index))
        await asyncio.sleep(0)
        return 200 if index % 5 else 503

    result = await load.run_load(send, clients=4, max_requests=50, max_seconds=60.0)
    assert result.requests == 50
    assert sorted(index for _, index in seen) == list(range(50))
    assert {client for client, _ in seen} == {0, 1, 2, 3}
    assert result.errors == {503: 10}
    assert len(result.latencies) == 50


async def test_the_loop_stops_at_the_time_limit_and_times_each_request() -> None:
    clock = FakeClock()

    async def send(client: int, index: int) -> int:
        clock.now += 0.25
        await asyncio.sleep(0)
        return 200

    result = await load.run_load(send, clients=2, max_requests=1000, max_seconds=5.0, clock=clock)
    # 0.25 s of clock per request: 20 requests fill 5 s; one in flight per client may end past it.
    assert 20 <= result.requests <= 22
    assert result.wall_seconds == pytest.approx(result.requests * 0.25)
    assert result.rate == pytest.approx(4.0)


async def test_bounds_must_be_positive() -> None:
    async def send(client: int, index: int) -> int:
        return 200

    with pytest.raises(ValueError, match="positive"):
        await load.run_load(send, clients=0, max_requests=1, max_seconds=1.0)


def test_only_loopback_urls_are_loaded() -> None:
    load.check_loopback("http://127.0.0.1:8000")
    with pytest.raises(SystemExit, match="only loads servers on this machine"):
        load.check_loopback("http://example.com:8000")
