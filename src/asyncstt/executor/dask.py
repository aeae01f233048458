"""DaskExecutor: slices on a Dask distributed cluster, local (in-process LocalCluster) or remote."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Any

import dask
from distributed import Client, Future, LocalCluster
from distributed.scheduler import KilledWorker

from asyncstt.engines.allocator import ARENAS
from asyncstt.engines.device import workers_wanted
from asyncstt.errors import AsyncSttError, Unavailable
from asyncstt.executor.quiet import quiet_defaults
from asyncstt.executor.worker import prepare
from asyncstt.settings import EngineSettings, ExecutionSettings

log = logging.getLogger(__name__)

SATURATION_KEY = "distributed.scheduler.worker-saturation"
#: The environment Dask's nanny gives each local worker process it spawns.
WORKER_ENVIRONMENT_KEY = "distributed.nanny.pre-spawn-environ"
#: Seconds to wait for an external scheduler, on start and after the connection drops.
CONNECT_TIMEOUT_SECONDS = 10.0
#: Times one slice is submitted again after the cluster lost it (scheduler restart, connection lost, workers
#: killed under it); a failure of the slice itself is retried by Dask (`execution.slice_retries`) instead.
LOST_RESUBMITS = 3
#: Seconds between attempts to reach a scheduler that is down, so waiting slices do not each wait a full timeout.
RECONNECT_INTERVAL_SECONDS = 2.0
#: Seconds to wait for the error of a slice that failed; the client holds it already, so this is a formality.
ERROR_FETCH_SECONDS = 5.0


@dataclass(frozen=True)
class Refused:
    """A slice that ended with the caller's error (a bad file), carried back as a value so Dask does not retry it."""

    error: AsyncSttError


@dataclass(frozen=True)
class RefusalsReturned:
    """`fn` run on a worker, with the caller's errors returned as `Refused` rather than raised: Dask retries every
    task that raises, and a file that cannot be decoded fails the same way each time."""

    fn: Callable[[Any], Any]

    def __call__(self, arg: Any) -> Any:
        try:
            return self.fn(arg)
        except AsyncSttError as error:
            if error.is_caller_error:
                return Refused(error)
            raise


class DaskExecutor:
    def __init__(
        self,
        execution: ExecutionSettings,
        engine: EngineSettings,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        # Queued tasks stay on the scheduler, so priorities are strict: a deferred slice never overtakes a
        # standard one that is waiting.
        dask.config.set({SATURATION_KEY: 1.0})
        self._retries = execution.slice_retries
        self._address = execution.dask_address
        self._engine = engine
        self._connect_timeout = connect_timeout
        self._cluster: LocalCluster | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._next_connect = 0.0
        if self._address:
            self._client = self._connect(self._address)
        else:
            workers = execution.local_workers or workers_wanted(engine, os.cpu_count() or 1)
            quiet_defaults()
            # From its start, so that no thread of the worker takes an arena of its own before the engine
            # loads (engines/allocator.py); workers elsewhere get the limit when the engine loads.
            environment = dict(dask.config.get(WORKER_ENVIRONMENT_KEY, {}))
            dask.config.set({WORKER_ENVIRONMENT_KEY: {**environment, "MALLOC_ARENA_MAX": ARENAS}})
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                # Any free port: a second server (or a test) on the machine must not clash on 8787.
                dashboard_address=":0",
                silence_logs=logging.WARNING,
            )
            self._client = Client(self._cluster)
        self._start_preparing_workers()

    def _connect(self, address: str) -> Client:
        try:
            client = Client(address, timeout=self._connect_timeout)
        except (OSError, TimeoutError) as error:
            raise Unavailable(
                f"cannot reach the Dask scheduler at {address} within {self._connect_timeout:g} s: start "
                f"`dask scheduler` there or correct ASYNCSTT_EXECUTION__DASK_ADDRESS ({error})"
            ) from error
        log.info(
            "connected to the Dask scheduler at %s; dashboard: %s",
            address,
            client.dashboard_link or "none",
        )
        _check_saturation(client, address)
        return client

    def _start_preparing_workers(self) -> None:
        # Each worker loads the model once, now, rather than on its first slice; the API need not wait for it.
        threading.Thread(
            target=self._prepare_workers, args=(self._client,), name="prepare-workers", daemon=True
        ).start()

    def _prepare_workers(self, client: Client) -> None:
        try:
            client.run(prepare, self._engine)
        except Exception:
            log.exception(
                "loading the engine on the workers failed; slices will load it themselves"
            )

    @property
    def dashboard_link(self) -> str | None:
        link = self._client.dashboard_link
        return str(link) if link else None

    def submit(self, fn: Callable[[Any], Any], arg: Any, *, priority: int, key: str) -> SliceHandle:
        return SliceHandle(self, fn, arg, priority, key)

    def _submit(self, fn: Callable[[Any], Any], arg: Any, priority: int, key: str) -> Future[Any]:
        client = self._live_client()
        return client.submit(
            RefusalsReturned(fn), arg, priority=priority, key=key, pure=False, retries=self._retries
        )

    def _live_client(self) -> Client:
        """The client, connected again when it gave up on a scheduler that was down for longer than the timeout."""
        with self._lock:
            if self._closed:
                raise Unavailable("the Dask executor is closed")
            if self._address is None or self._client.status not in ("closing", "closed"):
                return self._client
            if time.monotonic() < self._next_connect:
                raise Unavailable(f"the Dask scheduler at {self._address} is not reachable")
            try:
                self._client = self._connect(self._address)
            except Unavailable:
                self._next_connect = time.monotonic() + RECONNECT_INTERVAL_SECONDS
                raise
            self._start_preparing_workers()
            return self._client

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._client.close(timeout=self._connect_timeout)
        if self._cluster is not None:
            self._cluster.close()


def _check_saturation(client: Client, address: str) -> None:
    """Warn when an external scheduler would let deferred slices overtake standard ones.

    Setting the value here reaches only a scheduler this process starts; an external one reads its own
    configuration.
    """
    try:
        saturation = client.run_on_scheduler(dask.config.get, SATURATION_KEY)
    except Exception:
        log.warning("could not read the configuration of the Dask scheduler at %s", address)
        return
    if float(saturation) != 1.0:
        log.warning(
            "the Dask scheduler at %s runs with worker-saturation %s: standard slices may wait behind "
            "deferred ones; start it with DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0",
            address,
            saturation,
        )


class SliceHandle:
    """A slice submitted to Dask that survives the cluster losing it.

    When the scheduler restarts or the connection to it drops, the client cancels every future it holds; a
    worker dying under the same slice again and again ends it with `KilledWorker`. Neither says anything about
    the slice, so the handle submits it again (at most `LOST_RESUBMITS` times) and stays not done meanwhile,
    waiting for the scheduler to come back if it must. Only a cancel through this handle ends it cancelled.
    """

    def __init__(
        self,
        executor: DaskExecutor,
        fn: Callable[[Any], Any],
        arg: Any,
        priority: int,
        key: str,
    ) -> None:
        self._executor = executor
        self._call = (fn, arg, priority, key)
        self._key = key
        self._lock = threading.Lock()
        self._cancelled = False
        self.resubmits = 0
        self._future: Future[Any] | None = executor._submit(fn, arg, priority, key)

    def done(self) -> bool:
        with self._lock:
            if self._cancelled:
                return True
            future = self._future
            if future is None:
                return self._resubmit()
            if not future.done():
                return False
            if not self._lost(future) or self.resubmits >= LOST_RESUBMITS:
                return True
            self._future = None
            self.resubmits += 1
            log.warning("slice %s was lost by the cluster; submitting it again", self._key)
            return self._resubmit()

    def result(self, timeout: float | None = None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done():
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"slice {self._key} is not done after {timeout:g} s")
            time.sleep(0.05)
        with self._lock:
            future = self._future
        if self._cancelled or future is None:
            raise CancelledError(f"slice {self._key} was cancelled")
        try:
            value = future.result()
        except Exception as error:
            if self._cancelled or (future.status == "error" and not self._lost(future)):
                raise
            if self.resubmits >= LOST_RESUBMITS:
                raise Unavailable(
                    f"the Dask cluster lost slice {self._key} {self.resubmits + 1} times "
                    f"({type(error).__name__}: {error}): check that the scheduler and workers stay up"
                ) from error
        else:
            if isinstance(value, Refused):
                raise value.error
            return value
        # The result was lost on its way here (the connection dropped while fetching it): run it again.
        with self._lock:
            self._future = None
            self.resubmits += 1
            self._resubmit()
        return self.result(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def cancel(self) -> bool:
        with self._lock:
            self._cancelled = True
            future = self._future
        if future is not None:
            future.cancel()
        return True

    def _resubmit(self) -> bool:
        """Submit the slice again if the scheduler can be reached; False: not done, it waits."""
        with contextlib.suppress(Unavailable):
            self._future = self._executor._submit(*self._call)
        return False

    def _lost(self, future: Future[Any]) -> bool:
        if self._cancelled:
            return False
        if future.status == "cancelled":
            return True
        if future.status != "error":
            return False
        try:
            # Not timeout=0: the sync client needs a turn of its event loop even for an error it holds, and a
            # slice's own failure must not pass for a loss (which would run it again and again).
            error = future.exception(timeout=ERROR_FETCH_SECONDS)
        except Exception:
            # The client is gone along with the error it held: that is a loss too.
            return True
        return isinstance(error, KilledWorker)
