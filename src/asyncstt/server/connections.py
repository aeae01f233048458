"""The REST door's HTTP/1.1 connections: uvicorn's httptools protocol with the limits it lacks.

uvicorn reads a request head of any size (a 200 MB header held its event loop for 49 s), keeps a connection
that sends nothing or half a request open forever, and waits forever for a body that stalls. This protocol
stops reading a head at `http.max_header_bytes` and `http.max_headers` (431), gives a head
`http.header_timeout_seconds` to arrive and a body `http.body_timeout_seconds` of grace, then
`http.min_body_bytes_per_second` (408), and keeps at most `max_connections` open: past it, the connection that
has waited longest for a request is closed to make room for the new one. Every refusal that still has an HTTP
exchange is answered with SpeechKit's `google.rpc.Status` JSON and the connection closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from asyncstt.http.errors import REQUEST_ID_HEADER, status_body
from asyncstt.observability.logs import ThrottledLog
from asyncstt.observability.metrics import Metrics
from asyncstt.settings import HttpServerSettings

log = logging.getLogger(__name__)

#: Open files a process keeps beside its HTTP connections: the store, the gRPC door, the Dask cluster's
#: sockets, logs, audio being fetched.
RESERVED_FILES = 256
#: After a refusal, how long and how much of what the client still sends is read and dropped before the
#: connection is closed: closing on unread bytes resets the connection, and a client still sending its huge
#: head would lose the answer with it.
LINGER_SECONDS = 2.0
LINGER_BYTES = 16 * 1024**2


class _HeadRefused(Exception):
    """Raised inside the parser's callback to stop parsing a head that broke a limit."""


@dataclass
class ConnectionBook:
    """What the connections of one server share: their limits, the open ones, and those waiting for a
    request (oldest first), which are the ones closed to make room."""

    limits: HttpServerSettings
    max_connections: int
    metrics: Metrics
    open: set[LimitedHttpProtocol] = field(default_factory=set)
    waiting: OrderedDict[LimitedHttpProtocol, None] = field(default_factory=OrderedDict)
    refused_heads: ThrottledLog = field(
        default_factory=lambda: ThrottledLog(
            log, logging.WARNING, "refused a request head from %s: %s"
        )
    )
    timed_out: ThrottledLog = field(
        default_factory=lambda: ThrottledLog(log, logging.INFO, "closed a connection from %s: %s")
    )
    full: ThrottledLog = field(
        default_factory=lambda: ThrottledLog(
            log, logging.WARNING, "%d HTTP connections are open, the most allowed: %s"
        )
    )

    def admit(self, connection: LimitedHttpProtocol) -> bool:
        """Count a new connection in, closing the one that has waited longest for a request when the book is
        full; False (the new one is to be closed) when every open connection is running a request."""
        if len(self.open) >= self.max_connections:
            if not self.waiting:
                self.full(
                    len(self.open), "closed a new connection, every open one is running a request"
                )
                return False
            oldest, _ = self.waiting.popitem(last=False)
            self.open.discard(oldest)
            oldest.transport.close()
            self.full(
                len(self.open) + 1, "closed the connection that had waited longest for a request"
            )
        self.open.add(connection)
        self.waiting[connection] = None
        return True

    def forget(self, connection: LimitedHttpProtocol) -> None:
        self.open.discard(connection)
        self.waiting.pop(connection, None)


class LimitedHttpProtocol(HttpToolsProtocol):
    """One HTTP/1.1 connection under the limits of its server's `book` (each server binds its own subclass
    with `protocol_for`)."""

    book: ClassVar[ConnectionBook]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._reading_head = True
        self._head_begun = False
        self._head_started = 0.0
        self._head_bytes = 0
        self._header_count = 0
        self._refusal: tuple[int, int, str] | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._in_body = False
        self._body_allowance_from = 0.0
        self._body_bytes = 0
        self._lingered: int | None = None
        self._linger_timer: asyncio.TimerHandle | None = None

    # Connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.book.admit(self):
            transport.close()
            return
        self._head_timer = self.loop.call_later(
            self.book.limits.header_timeout_seconds, self._head_timed_out
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.book.forget(self)
        self._cancel_head_timer()
        self._cancel_body_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingered is not None:
            self._lingered += len(data)
            if self._lingered > LINGER_BYTES:
                self.transport.close()
            return
        if self._reading_head:
            room = self.book.limits.max_header_bytes - self._head_bytes
            if len(data) > room:
                # Feed only what the limit allows: the parser copies a header's value as it grows, so a
                # huge header fed whole is what held the event loop.
                self._feed(data[:room])
                if self._reading_head and not self._ending():
                    self._refuse(
                        431,
                        3,
                        f"the request line and headers are over {self.book.limits.max_header_bytes} bytes",
                    )
                    return
                data = data[room:]
            else:
                self._head_bytes += len(data)
        if not self._ending():
            self._feed(data)
            self._arm_timers()

    def _arm_timers(self) -> None:
        """Time a head or a body that did not arrive whole in one read; a request that did, as most do, costs
        no timer."""
        if self._ending():
            return
        if self._reading_head:
            if self._head_begun and self._head_timer is None:
                self._head_timer = self.loop.call_at(
                    self._head_started + self.book.limits.header_timeout_seconds,
                    self._head_timed_out,
                )
        elif self._in_body and self._body_timer is None:
            self._body_timer = self.loop.call_at(
                self._body_allowance_from + self.book.limits.body_timeout_seconds,
                self._body_timed_out,
            )

    def _feed(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # No upgrade is served: the request was handed to the application as a plain one.
            pass
        except httptools.HttpParserError as error:
            refusal = self._refusal or (400, 3, f"the request is not valid HTTP/1.1: {error}")
            self._refuse(*refusal)

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_begun = True
        self._head_started = self.loop.time()
        self._header_count = 0
        self._refusal = None

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.book.limits.max_headers:
            self._refusal = (431, 3, f"the request has over {self.book.limits.max_headers} headers")
            raise _HeadRefused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_begun = False
        self._cancel_head_timer()
        self.book.waiting.pop(self, None)
        super().on_headers_complete()
        self._in_body = True
        self._body_bytes = 0
        self._body_allowance_from = self.loop.time()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_body = False
        self._cancel_body_timer()
        self._reading_head = True
        self._head_bytes = 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not pipelined and self._reading_head and not self._ending():
            self.book.waiting[self] = None

    # Limits

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._ending():
            return
        seconds = self.book.limits.header_timeout_seconds
        if self._head_begun:
            self.book.timed_out(
                self._peer(), f"its request head did not arrive within {seconds:g} s"
            )
            self._refuse(
                408,
                4,
                f"the request line and headers did not arrive within {seconds:g} s",
                quiet=True,
            )
        else:
            self.book.timed_out(self._peer(), f"it sent no request within {seconds:g} s")
            self.transport.close()

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self._ending():
            return
        limits = self.book.limits
        now = self.loop.time()
        if self.flow.read_paused:
            # The application is not reading yet: the wait is the server's, not the client's.
            self._body_allowance_from = now - self._body_bytes / limits.min_body_bytes_per_second
            self._body_timer = self.loop.call_later(
                limits.body_timeout_seconds, self._body_timed_out
            )
            return
        due = (
            self._body_allowance_from
            + limits.body_timeout_seconds
            + self._body_bytes / limits.min_body_bytes_per_second
        )
        if now < due:
            self._body_timer = self.loop.call_later(due - now, self._body_timed_out)
            return
        self.book.timed_out(
            self._peer(), f"its request body stalled after {self._body_bytes} bytes"
        )
        self._refuse(
            408,
            4,
            f"the request body stalled: {self._body_bytes} bytes came in {now - self._body_allowance_from:.0f} s; "
            f"a body must arrive at {limits.min_body_bytes_per_second} bytes a second after "
            f"{limits.body_timeout_seconds:g} s",
            quiet=True,
        )

    def _refuse(self, status: int, code: int, message: str, *, quiet: bool = False) -> None:
        """Answer `status` with a `google.rpc.Status` unless an answer was started, and close the connection
        once the client has read it; a request the application is running sees its client gone."""
        if not quiet:
            self.book.refused_heads(self._peer(), message)
        cycle = self.cycle
        answered = cycle is not None and cycle.response_started and not cycle.response_complete
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        if not answered:
            self.book.metrics.error(code, "request")
            rid = str(uuid.uuid4())
            body = json.dumps(status_body(code, message, rid)).encode()
            self.transport.write(
                b"".join(
                    [
                        STATUS_LINE[status],
                        b"content-type: application/json\r\n",
                        f"{REQUEST_ID_HEADER}: {rid}\r\n".encode(),
                        f"content-length: {len(body)}\r\n".encode(),
                        b"connection: close\r\n\r\n",
                        body,
                    ]
                )
            )
        self._cancel_head_timer()
        self._cancel_body_timer()
        if answered or not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._lingered = 0
        self._linger_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _ending(self) -> bool:
        """Whether the connection is closing or only lingering to be closed."""
        return self._lingered is not None or self.transport.is_closing()

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "a client"


def protocol_for(limits: HttpServerSettings, metrics: Metrics) -> type[LimitedHttpProtocol]:
    """The protocol class of one server: its connections share one book of `limits`, with the connection cap
    lowered to what the process's open-file limit allows; every refusal answered is counted in `metrics`."""
    book = ConnectionBook(limits, connection_cap(limits.max_connections), metrics)

    class ServerHttpProtocol(LimitedHttpProtocol):
        pass

    ServerHttpProtocol.book = book
    return ServerHttpProtocol


def connection_cap(wanted: int) -> int:
    """`wanted`, or fewer when the open-file limit cannot hold that many connections beside the process's
    other files; the soft limit is raised towards the hard one first."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    cap = max(1, soft - RESERVED_FILES)
    log.warning(
        "the open-file limit (%d) leaves room for %d HTTP connections, not http.max_connections = %d",
        soft,
        cap,
        wanted,
    )
    return cap
