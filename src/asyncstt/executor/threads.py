"""ThreadExecutor: runs calls on a thread pool in this process, highest priority first."""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class ThreadExecutor:
    """An in-process twin of the Dask executor: same priority semantics, no processes, no network."""

    def __init__(self, workers: int = 1) -> None:
        self._queue: queue.PriorityQueue[
            tuple[int, int, Callable[[Any], Any], Any, Future[Any]]
        ] = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"slice-worker-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[[Any], Any], arg: Any, *, priority: int, key: str) -> Future[Any]:
        if self._closed.is_set():
            raise RuntimeError("executor is closed")
        future: Future[Any] = Future()
        self._queue.put((-priority, next(self._order), fn, arg, future))
        return future

    def _work(self) -> None:
        while not self._closed.is_set():
            try:
                _, _, fn, arg, future = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(arg))
            except BaseException as exc:
                future.set_exception(exc)

    def close(self) -> None:
        self._closed.set()
        for thread in self._threads:
            thread.join(timeout=5)
