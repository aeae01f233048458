"""Dask preload module for asyncstt workers on other machines.

    dask worker tcp://scheduler:8786 --preload asyncstt.executor.worker --preload-nanny asyncstt.executor.nanny \
        --nthreads 1 --nworkers N

Each worker process reads its settings from the environment (`ASYNCSTT_*`, the same variables as `asyncstt serve`)
and loads the engine before it registers with the scheduler, so no slice waits for the model and a worker that
cannot load it never receives work. The API processes send their engine settings with every slice; keep
`ASYNCSTT_ENGINE__*` the same on both sides, or each worker loads a second copy on its first slice. The API
processes also run `prepare` with their engine settings on every worker they connect to (`DaskExecutor`). Its
periodic work is kept small as a local cluster's is (`quiet.py`), where the operator's Dask configuration does
not say otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from asyncstt.engines.catalog import factory, load_engine
from asyncstt.executor.quiet import quiet_defaults, quiet_server
from asyncstt.observability.logs import configure_logging
from asyncstt.settings import EngineSettings, Settings

log = logging.getLogger(__name__)


def prepare(engine: EngineSettings) -> None:
    """Load the engine into this process's cache, so the first slice does not pay for it, and log which."""
    started = time.monotonic()
    summary = factory(engine).summary(engine)
    load_engine(engine)
    log.info("loaded %s in %.1f s", summary, time.monotonic() - started)


async def dask_setup(worker: Any) -> None:
    """Called by Dask in each worker process before it connects to the scheduler."""
    configure_logging()
    quiet_defaults()
    quiet_server(worker)
    settings = Settings()
    log.info("asyncstt worker %s starting", getattr(worker, "name", None) or "")
    # Off the event loop: the worker's comms and the nanny's heartbeats keep running while the model loads.
    await asyncio.to_thread(prepare, settings.engine)
