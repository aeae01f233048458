"""DaskExecutor: slices on a Dask distributed cluster, local (in-process LocalCluster) or remote."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import dask
from distributed import Client, LocalCluster

from asyncstt.pipeline.task import warm_up
from asyncstt.settings import EngineSettings, ExecutionSettings

log = logging.getLogger(__name__)


class DaskExecutor:
    def __init__(self, execution: ExecutionSettings, engine: EngineSettings) -> None:
        # Queued tasks stay on the scheduler, so priorities are strict: a deferred slice never overtakes a
        # standard one that is waiting.
        dask.config.set({"distributed.scheduler.worker-saturation": 1.0})
        self._retries = execution.slice_retries
        self._cluster: LocalCluster | None = None
        if execution.dask_address:
            self._client = Client(execution.dask_address)
        else:
            workers = execution.local_workers or os.cpu_count() or 1
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.WARNING,
            )
            self._client = Client(self._cluster)
        # Each worker loads the model once, now, rather than on its first slice; the API need not wait for it.
        threading.Thread(target=self._warm_up, args=(engine,), name="warm-up", daemon=True).start()

    def _warm_up(self, engine: EngineSettings) -> None:
        try:
            self._client.run(warm_up, engine)
        except Exception:
            log.exception(
                "loading the engine on the workers failed; slices will load it themselves"
            )

    @property
    def dashboard_link(self) -> str | None:
        link = self._client.dashboard_link
        return str(link) if link else None

    def submit(self, fn: Callable[[Any], Any], arg: Any, *, priority: int, key: str) -> Any:
        return self._client.submit(
            fn, arg, priority=priority, key=key, pure=False, retries=self._retries
        )

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
