"""LeaseKeeper: keeps a dispatcher's lease on an operation alive while it works on it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from asyncstt.store.base import OperationStore

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews the lease every third of its length in a background thread; `lost` is set once it cannot."""

    def __init__(
        self,
        store: OperationStore,
        operation_id: str,
        owner: str,
        lease_seconds: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._operation_id = operation_id
        self._owner = owner
        self._lease_seconds = lease_seconds
        self._clock = clock
        self._stop = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease {operation_id}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._lease_seconds / 3):
            try:
                renewed = self._store.renew(
                    self._operation_id, self._owner, self._lease_seconds, self._clock()
                )
            except Exception:
                log.exception(
                    "renewing the lease on %s failed; will retry",
                    self._operation_id,
                    extra={"operation_id": self._operation_id},
                )
                continue
            if not renewed:
                log.warning(
                    "lease on %s lost; another dispatcher owns it now",
                    self._operation_id,
                    extra={"operation_id": self._operation_id},
                )
                self.lost.set()
                return
