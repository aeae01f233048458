"""Assembles a running asyncstt: store, service, front door, dispatcher and executor."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType

import uvicorn

from asyncstt.audio.probe import probe
from asyncstt.dispatch.dispatcher import Dispatcher
from asyncstt.dispatch.slice_pipeline import SlicePipeline
from asyncstt.engines.catalog import describe_engine
from asyncstt.executor.base import Executor
from asyncstt.executor.dask import DaskExecutor
from asyncstt.http.app import create_app
from asyncstt.iam.audit import Auditor
from asyncstt.iam.auth import Authenticator
from asyncstt.iam.quota import QuotaLimiter
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.sql import SqlIdentityStore
from asyncstt.iam.sql_counter import SqlQuotaCounter
from asyncstt.iam.storage_credentials import StoredStorageCredentials
from asyncstt.iam.tokens import TokenService
from asyncstt.observability.metrics import Metrics
from asyncstt.pipeline.plan import plan_cut_points
from asyncstt.pipeline.task import recognise_slice
from asyncstt.service.operations import OperationService
from asyncstt.settings import Settings
from asyncstt.sources.fetcher import AudioFetcher
from asyncstt.sources.registry import SourceRegistry
from asyncstt.store.base import OperationStore
from asyncstt.store.sql import SqlStore

log = logging.getLogger(__name__)

#: How often the main thread looks for a stop signal that arrived on another thread.
SIGNAL_CHECK_SECONDS = 0.2


@dataclass
class Components:
    """The long-lived parts of one server process."""

    store: OperationStore
    service: OperationService
    authenticator: Authenticator
    dispatcher: Dispatcher
    executor: Executor
    metrics: Metrics
    identity: SqlIdentityStore
    server_key: ServerKey
    auditor: Auditor
    tokens: TokenService
    quota: QuotaLimiter


def open_store(settings: Settings) -> SqlStore:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqlStore(settings.store_url)


def build(settings: Settings, executor: Executor | None = None) -> Components:
    """Wire the components together; the executor defaults to Dask as the settings describe it."""
    store = open_store(settings)
    identity = SqlIdentityStore(store)
    server_key = ServerKey.load(settings)
    sources = SourceRegistry(settings, StoredStorageCredentials(identity, server_key))
    capabilities = describe_engine(settings.engine)
    auditor = Auditor(identity)
    authenticator = Authenticator(
        identity, server_key, settings.iam, auditor, required=settings.auth_required
    )
    tokens = TokenService(identity, server_key, settings.iam)
    quota = QuotaLimiter(SqlQuotaCounter(store), settings.iam.quotas)
    executor = executor or DaskExecutor(settings.execution, settings.engine)
    fetcher = AudioFetcher(store.inline_audio, sources.fetch, settings.limits.max_file_bytes)
    metrics = Metrics(state_counts=store.state_counts)
    pipeline = SlicePipeline(probe, plan_cut_points, recognise_slice)
    dispatcher = Dispatcher(store, executor, fetcher, settings, metrics=metrics, pipeline=pipeline)
    service = OperationService(store, sources, capabilities, settings, on_submit=dispatcher.wake)
    return Components(
        store,
        service,
        authenticator,
        dispatcher,
        executor,
        metrics,
        identity,
        server_key,
        auditor,
        tokens,
        quota,
    )


class Server(AbstractContextManager["Server"]):
    """A server process: REST on `host:port`, plus the dispatcher feeding the executor.

    `run()` serves in the calling thread until interrupted; as a context manager it serves in a background
    thread (used by `asyncstt transcribe` and by tests).
    """

    def __init__(self, settings: Settings, components: Components | None = None) -> None:
        self.settings = settings
        self.components = components or build(settings)
        app = create_app(
            self.components.service,
            self.components.authenticator,
            self.components.metrics,
            quota=self.components.quota,
            tokens=self.components.tokens,
        )
        config = uvicorn.Config(
            app, host=settings.host, port=settings.port, log_level="warning", access_log=False
        )
        self._uvicorn = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM, then stop in order: HTTP, dispatcher (handing work back), executor.

        The signals are caught here rather than by uvicorn, which re-raises them once it has stopped and so
        would end the process before the dispatcher could hand its operations back. The main thread waits
        in short steps: Python runs a signal handler only in the main thread, and a signal the kernel hands
        to another thread does not wake a main thread blocked in an untimed wait.
        """
        stop = threading.Event()
        received: list[str] = []

        def on_signal(signum: int, _frame: object) -> None:
            received.append(signal.Signals(signum).name)
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, on_signal)
        with self:
            while not stop.wait(SIGNAL_CHECK_SECONDS):
                pass
            log.info("%s received: stopping", received[0])

    def __enter__(self) -> Server:
        self.components.dispatcher.start()
        self._thread = threading.Thread(target=self._uvicorn.run, name="http", daemon=True)
        self._thread.start()
        while not self._uvicorn.started:
            if not self._thread.is_alive():
                self.close()
                raise RuntimeError(f"the HTTP server could not start on {self.url}")
            self._thread.join(0.05)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.close()

    def close(self) -> None:
        started = time.monotonic()
        self.components.dispatcher.stop()
        log.info("dispatcher stopped in %.1f s", time.monotonic() - started)
        self.components.executor.close()
        self.components.store.close()
        log.info("stopped in %.1f s", time.monotonic() - started)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind((host, 0))
        port: int = probe_socket.getsockname()[1]
        return port
