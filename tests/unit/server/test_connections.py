"""The REST door's connection limits, on a real uvicorn server on 127.0.0.1 running a tiny ASGI app with tight
limits: request heads cut off at their size and header count, heads and bodies that stall timed out, and the
connection cap making room by closing the connection that waited longest."""

from __future__ import annotations

import asyncio
import json
import resource
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import pytest
import uvicorn

from asyncstt.observability.metrics import Metrics
from asyncstt.server import connections
from asyncstt.server.connections import connection_cap, protocol_for
from asyncstt.server.process import free_port
from asyncstt.settings import HttpServerSettings

LIMITS = HttpServerSettings(
    max_header_bytes=4096,
    max_headers=20,
    header_timeout_seconds=0.5,
    body_timeout_seconds=0.5,
    min_body_bytes_per_second=100_000,
    max_connections=20,
)
GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


class App:
    """Answers `200 <body length>`; `/hold` first waits until `release()`, `/late` reads its body after 2 s.
    Counts bodies it saw cut off."""

    def __init__(self) -> None:
        self.disconnects = 0
        self._released = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def release(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._released.set)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self._loop = asyncio.get_running_loop()
        if scope["type"] != "http":
            return
        if scope["path"] == "/late":
            await asyncio.sleep(2)
        length, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.disconnects += 1
                return
            length += len(message.get("body", b""))
            more = message.get("more_body", False)
        if scope["path"] == "/hold":
            await self._released.wait()
        body = str(length).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class Served:
    def __init__(self, app: App, port: int, metrics: Metrics) -> None:
        self.app = app
        self.port = port
        self.metrics = metrics

    def refusals(self, code: int) -> float | None:
        return self.metrics.registry.get_sample_value(
            "asyncstt_errors_total", {"code": str(code), "where": "request"}
        )

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)


@pytest.fixture
def served() -> Iterator[Served]:
    app = App()
    port = free_port()
    metrics = Metrics()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=protocol_for(LIMITS, metrics),
        ws="none",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.01)
    yield Served(app, port, metrics)
    app.release()
    server.should_exit = True
    thread.join(10)


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; a reset counts as the end."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def read_all_until(sock: socket.socket, end: bytes) -> bool:
    """Whether the server sends an answer ending with `end` before it closes."""
    received = b""
    while not received.endswith(end):
        chunk = sock.recv(4096)
        if not chunk:
            return False
        received += chunk
    return True


def status_of(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body) if body.startswith(b"{") else {}


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_plain_request_is_served_and_kept_alive(served: Served) -> None:
    with served.connect() as sock:
        for _ in range(3):
            sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
            assert sock.recv(4096).endswith(b"\r\n\r\n5")


def test_a_head_over_the_size_limit_is_refused_after_reading_no_more_than_the_limit(
    served: Served,
) -> None:
    with served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 5000)
        status, body = status_of(read_all(sock))
    assert status == 431
    assert body["code"] == 3
    assert body["message"] == "the request line and headers are over 4096 bytes"
    assert body["details"][0]["requestId"]
    assert served.refusals(3) == 1


def test_a_client_still_sending_a_huge_head_reads_the_431_before_the_connection_closes(
    served: Served,
) -> None:
    def send_huge(sock: socket.socket) -> None:
        with suppress(OSError):
            sock.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 3_000_000)

    with served.connect() as sock:
        sender = threading.Thread(target=send_huge, args=(sock,))
        sender.start()
        started = time.monotonic()
        answer = read_all(sock)
        sender.join(5)
    assert status_of(answer)[0] == 431
    assert time.monotonic() - started < connections.LINGER_SECONDS + 1


def test_a_head_with_too_many_headers_is_refused(served: Served) -> None:
    headers = b"".join(b"X-%d: 1\r\n" % n for n in range(21))
    with served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n" + headers + b"\r\n")
        status, body = status_of(read_all(sock))
    assert (status, body["message"]) == (431, "the request has over 20 headers")


def test_a_head_that_is_not_http_is_answered_400_as_a_status(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(b"\x16\x03\x01 hello\r\n\r\n")
        status, body = status_of(read_all(sock))
    assert status == 400
    assert body["code"] == 3
    assert body["message"].startswith("the request is not valid HTTP/1.1")


def test_a_connection_that_sends_nothing_is_closed_after_the_head_timeout(served: Served) -> None:
    with served.connect() as sock:
        started = time.monotonic()
        assert read_all(sock) == b""
    assert 0.4 < time.monotonic() - started < 2
    assert served.refusals(4) is None


def test_a_head_that_trickles_is_answered_408_at_the_head_timeout(served: Served) -> None:
    with served.connect() as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\n")
        for _ in range(3):
            time.sleep(0.1)
            sock.sendall(b"X: 1\r\n")
        status, body = status_of(read_all(sock))
    assert (status, body["code"]) == (408, 4)
    assert body["message"] == "the request line and headers did not arrive within 0.5 s"
    assert served.refusals(4) == 1
    assert time.monotonic() - started < 2


def test_a_kept_alive_connection_gets_a_new_head_timeout_for_each_request(served: Served) -> None:
    with served.connect() as sock:
        for _ in range(2):
            sock.sendall(GET)
            assert sock.recv(4096).endswith(b"\r\n\r\n0")
            time.sleep(0.3)
        sock.sendall(b"GET / HTTP/1.1\r\n")
        status, _ = status_of(read_all(sock))
    assert status == 408


def test_a_stalled_body_is_answered_408_and_the_app_sees_its_client_gone(served: Served) -> None:
    with served.connect() as sock:
        started = time.monotonic()
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        status, body = status_of(read_all(sock))
    assert (status, body["code"]) == (408, 4)
    assert body["message"].startswith("the request body stalled: 1000 bytes came in")
    assert 0.4 < time.monotonic() - started < 2
    deadline = time.monotonic() + 2
    while served.app.disconnects == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert served.app.disconnects == 1


def test_a_body_that_keeps_the_minimum_rate_is_read_however_long_it_takes(served: Served) -> None:
    chunk = 40_000
    with served.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % (4 * chunk))
        for _ in range(4):
            sock.sendall(b"x" * chunk)
            time.sleep(0.25)
        assert sock.recv(4096).endswith(b"\r\n\r\n%d" % (4 * chunk))


def test_a_body_the_application_is_slow_to_read_is_not_the_clients_stall(served: Served) -> None:
    size = 300_000
    with served.connect() as sock:
        sock.sendall(
            b"POST /late HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size
        )
        assert read_all_until(sock, b"\r\n\r\n%d" % size)


def test_past_the_cap_the_connection_that_waited_longest_is_closed(served: Served) -> None:
    idle = [served.connect() for _ in range(LIMITS.max_connections)]
    time.sleep(0.1)
    with served.connect() as newcomer:
        newcomer.sendall(GET)
        assert newcomer.recv(4096).endswith(b"\r\n\r\n0")
    assert closed_by_server(idle[0], within=0.3)
    assert not closed_by_server(idle[-1], within=0.05)
    for sock in idle:
        sock.close()


def test_a_kept_alive_connection_joins_the_end_of_the_line_after_each_answer(
    served: Served,
) -> None:
    with served.connect() as regular:
        others = [served.connect() for _ in range(LIMITS.max_connections - 1)]
        time.sleep(0.05)
        regular.sendall(GET)
        assert regular.recv(4096).endswith(b"\r\n\r\n0")
        newcomer = served.connect()
        assert closed_by_server(others[0], within=0.3)
        regular.sendall(GET)
        assert regular.recv(4096).endswith(b"\r\n\r\n0")
        for sock in [*others, newcomer]:
            sock.close()


def test_when_every_connection_runs_a_request_a_new_one_is_closed(served: Served) -> None:
    busy = [served.connect() for _ in range(LIMITS.max_connections)]
    for sock in busy:
        sock.sendall(b"GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(0.2)
    with served.connect() as newcomer:
        assert closed_by_server(newcomer, within=1)
    served.app.release()
    for sock in busy:
        assert sock.recv(4096).endswith(b"\r\n\r\n0")
        sock.close()


def test_the_cap_stays_under_the_open_file_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = {"soft": 600, "hard": 700}

    def getrlimit(_which: int) -> tuple[int, int]:
        return limits["soft"], limits["hard"]

    def setrlimit(_which: int, values: tuple[int, int]) -> None:
        limits["soft"] = values[0]

    monkeypatch.setattr(resource, "getrlimit", getrlimit)
    monkeypatch.setattr(resource, "setrlimit", setrlimit)
    assert connection_cap(300) == 300
    assert limits["soft"] == 600
    assert connection_cap(1000) == 700 - connections.RESERVED_FILES
    assert limits["soft"] == 700
