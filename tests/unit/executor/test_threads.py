from __future__ import annotations

import threading

import pytest

from asyncstt.executor.threads import ThreadExecutor


def test_waiting_calls_run_highest_priority_first() -> None:
    executor = ThreadExecutor(workers=1)
    gate = threading.Event()
    order: list[str] = []
    try:
        blocker = executor.submit(lambda _: gate.wait(5), None, priority=0, key="blocker")
        handles = [
            executor.submit(order.append, name, priority=priority, key=name)
            for name, priority in [
                ("deferred-1", 0),
                ("standard-1", 100),
                ("deferred-2", 0),
                ("standard-2", 100),
            ]
        ]
        gate.set()
        blocker.result(5)
        for handle in handles:
            handle.result(5)
    finally:
        executor.close()
    assert order == ["standard-1", "standard-2", "deferred-1", "deferred-2"]


def test_exceptions_reach_the_caller_and_cancelled_calls_never_run() -> None:
    executor = ThreadExecutor(workers=1)
    gate = threading.Event()
    ran: list[int] = []
    try:
        blocker = executor.submit(lambda _: gate.wait(5), None, priority=0, key="blocker")
        cancelled = executor.submit(ran.append, 1, priority=0, key="cancelled")
        cancelled.cancel()
        failing = executor.submit(lambda _: 1 / 0, None, priority=0, key="failing")
        gate.set()
        blocker.result(5)
        with pytest.raises(ZeroDivisionError):
            failing.result(5)
    finally:
        executor.close()
    assert ran == []
    with pytest.raises(RuntimeError, match="closed"):
        executor.submit(ran.append, 2, priority=0, key="late")
