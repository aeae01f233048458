"""A bounded cache of the values read most recently, counted by the bytes they take."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RecentValues(Generic[K, V]):
    """Values by key, at most `budget` bytes of them (as `size` counts them), the least recently read dropped
    first; a value over a quarter of the budget is made each time it is asked for. Safe across threads."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._size = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V], size: Callable[[V], int]) -> V:
        """The value kept for `key`, or `make()`'s, kept when it fits."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found[0]
        value = make()
        taken = size(value)
        if taken <= self._budget // 4:
            with self._lock:
                if key not in self._entries:
                    self._entries[key] = (value, taken)
                    self._size += taken
                while self._size > self._budget:
                    _, (_, dropped) = self._entries.popitem(last=False)
                    self._size -= dropped
        return value
