"""A server process: the REST and gRPC front doors, the dispatcher and the webhook deliverer over the assembled
components, stopped in order."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from contextlib import AbstractContextManager
from types import TracebackType

import uvicorn

from asyncstt.grpc.server import GrpcServer
from asyncstt.http.app import create_app
from asyncstt.server.assembly import Components, build, build_grpc
from asyncstt.server.connections import protocol_for
from asyncstt.settings import Settings

log = logging.getLogger(__name__)

#: How often the main thread looks for a stop signal that arrived on another thread.
SIGNAL_CHECK_SECONDS = 0.2
#: How long gRPC calls still running at a stop (a result stream being read) may take to finish.
GRPC_GRACE_SECONDS = 5.0


class Server(AbstractContextManager["Server"]):
    """A server process: REST on `host:port`, gRPC on `host:grpc.port` (unless 0), plus the dispatcher feeding
    the executor.

    `run()` serves in the calling thread until interrupted; as a context manager it serves in a background
    thread (used by `asyncstt transcribe` and by tests). The gRPC port is bound when the server is built.
    """

    def __init__(self, settings: Settings, components: Components | None = None) -> None:
        self.settings = settings
        self.components = components or build(settings)
        app = create_app(
            self.components.service,
            self.components.authenticator,
            self.components.metrics,
            quota=self.components.quota,
        )
        # The protocol enforces the limits on heads, bodies and connections that uvicorn lacks; no upgrade to
        # WebSocket is served.
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            http=protocol_for(settings.http, self.components.metrics),
            ws="none",
            timeout_keep_alive=settings.http.keep_alive_timeout_seconds,
        )
        self._uvicorn = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self.grpc: GrpcServer | None = None
        try:
            self.grpc = build_grpc(self.components, settings)
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM, then stop in order: gRPC, HTTP, dispatcher (handing work back),
        executor.

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
        if self.components.deliverer is not None:
            self.components.deliverer.start()
        self._thread = threading.Thread(target=self._uvicorn.run, name="http", daemon=True)
        self._thread.start()
        while not self._uvicorn.started:
            if not self._thread.is_alive():
                self.close()
                raise RuntimeError(f"the HTTP server could not start on {self.url}")
            self._thread.join(0.05)
        if self.grpc is not None:
            self.grpc.start()
            log.info(
                "gRPC on %s (%s); endpoint discovery hands out %s",
                self.grpc.address,
                "TLS" if self.grpc.tls else "plaintext",
                self.grpc.door.public_address,
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop_grpc()
        self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.close()

    def _stop_grpc(self) -> None:
        if self.grpc is None:
            return
        started = time.monotonic()
        self.grpc.stop(GRPC_GRACE_SECONDS)
        self.grpc = None
        log.info("gRPC stopped in %.1f s", time.monotonic() - started)

    def close(self) -> None:
        self._stop_grpc()
        started = time.monotonic()
        if self.components.deliverer is not None:
            self.components.deliverer.stop()
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
