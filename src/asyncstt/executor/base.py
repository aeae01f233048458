"""The executor port: submit a function call with a priority, watch its handle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class TaskHandle(Protocol):
    """A submitted call; `concurrent.futures.Future` and `distributed.Future` both fit."""

    def done(self) -> bool: ...

    def result(self, timeout: float | None = None) -> Any: ...

    def cancel(self) -> Any: ...


class Executor(Protocol):
    def submit(self, fn: Callable[[Any], Any], arg: Any, *, priority: int, key: str) -> TaskHandle:
        """Run `fn(arg)` somewhere; higher `priority` runs first among waiting calls."""

    def close(self) -> None:
        """Stop accepting work and release workers."""
