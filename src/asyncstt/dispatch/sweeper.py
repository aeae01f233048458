"""Sweeper: retention, carried out. Operations past it go, with their cached audio; old idempotency keys too."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from asyncstt.clock import utcnow
from asyncstt.settings import Settings
from asyncstt.store.base import OperationStore

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(
        self,
        store: OperationStore,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._monotonic = monotonic
        self._last: float | None = None

    def sweep_if_due(self) -> None:
        """Sweep on the first call, then once every `sweep_interval_seconds`."""
        now = self._monotonic()
        interval = self._settings.execution.sweep_interval_seconds
        if self._last is not None and now - self._last < interval:
            return
        self._last = now
        self.sweep()

    def sweep(self) -> list[str]:
        """Purge operations whose retention has run out, with their cached audio, and forget idempotency
        keys older than their window; the ids purged."""
        now = self._clock()
        window = timedelta(seconds=self._settings.execution.idempotency_window_seconds)
        try:
            self._store.forget_idempotency_keys_before(now - window)
        except Exception:
            log.exception("forgetting expired idempotency keys failed")
        cutoff = now - timedelta(seconds=self._settings.limits.retention_seconds)
        try:
            purged = self._store.purge_finished_before(cutoff)
        except Exception:
            log.exception("purging expired operations failed")
            return []
        for operation_id in purged:
            shutil.rmtree(self._settings.cache_dir / operation_id, ignore_errors=True)
        if purged:
            log.info("purged %d expired operations", len(purged))
        return purged
