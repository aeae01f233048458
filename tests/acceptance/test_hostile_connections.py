"""Connection abuse against a real `asyncstt serve` on 127.0.0.1 (fake engine): huge heads, thousands of idle and
half-sent connections, stalled and aborted uploads. Throughout, `/health` and another tenant's polls, each on a
new connection, answer within a second; the server's open files stay under its cap; nothing is logged as an
error; the audit log keeps a refused path short."""

from __future__ import annotations

import base64
import os
import re
import resource
import selectors
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from asyncstt.server.connections import RESERVED_FILES
from tests.acceptance.iam_requests import jfk_v3_body, operation_id, submit_v3
from tests.support.serve import ServeProcess

pytestmark = pytest.mark.acceptance

MAX_CONNECTIONS = 500
HOSTILE_ENV = {
    "ASYNCSTT_ENGINE__KIND": "fake",
    "ASYNCSTT_HTTP__HEADER_TIMEOUT_SECONDS": "2",
    "ASYNCSTT_HTTP__BODY_TIMEOUT_SECONDS": "2",
    "ASYNCSTT_HTTP__MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    "ASYNCSTT_HTTP__MAX_LARGE_BODIES": "2",
    "ASYNCSTT_HTTP__LARGE_BODY_BYTES": str(64 * 1024),
}
#: The slowest answer to /health or a poll that counts as responsive.
RESPONSIVE_SECONDS = 1.0
#: The huge-head attack: heads sent one after another for this long, or this many.
ATTACK_SECONDS = 1.0
ATTACK_HEADS = 400


@dataclass
class Target:
    server: ServeProcess
    tenant_b: dict[str, str]
    operation: str

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.server.port

    def open_files(self) -> int:
        assert self.server.process is not None
        return len(os.listdir(f"/proc/{self.server.process.pid}/fd"))

    def log(self) -> str:
        assert self.server.log_path is not None
        return self.server.log_path.read_text()


@pytest.fixture(scope="module")
def target(serve_factory: Callable[..., ServeProcess], reference_audio: Path) -> Target:
    server = serve_factory(extra_env=HOSTILE_ENV, args=["--file-root", str(reference_audio)])
    tenant_b = {"Authorization": f"Api-Key {server.create_key('tenant-b', 'sa-tenant-b')}"}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        operation = operation_id(submit_v3(http, tenant_b, reference_audio))
    return Target(server, tenant_b, operation)


@dataclass
class Probes:
    """What the other clients saw while an attack ran: each probe's path, status (0: failed) and seconds."""

    seen: list[tuple[str, int, float]] = field(default_factory=list)

    def assert_responsive(self) -> None:
        assert len(self.seen) >= 4, self.seen
        slow_or_failed = [p for p in self.seen if p[1] != 200 or p[2] > RESPONSIVE_SECONDS]
        assert not slow_or_failed, slow_or_failed

    @property
    def slowest(self) -> float:
        return max(seconds for _, _, seconds in self.seen)


@contextmanager
def probing(target: Target) -> Iterator[Probes]:
    """`/health` and tenant B's poll of its operation, each on a new connection, every 0.1 s."""
    probes = Probes()
    stop = threading.Event()
    paths = [("/health", {}), (f"/operations/{target.operation}", target.tenant_b)]

    def probe() -> None:
        # No connection is kept alive: each probe is a newcomer among the attacker's connections.
        fresh = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=target.server.url, timeout=5, limits=fresh) as http:
            while not stop.is_set():
                for path, headers in paths:
                    started = time.monotonic()
                    try:
                        status = http.get(path, headers=headers).status_code
                    except httpx.HTTPError:
                        status = 0
                    probes.seen.append((path, status, time.monotonic() - started))
                stop.wait(0.1)

    thread = threading.Thread(target=probe, name="probes")
    thread.start()
    try:
        yield probes
    finally:
        stop.set()
        thread.join(10)


def connect(target: Target) -> socket.socket:
    return socket.create_connection(target.address, timeout=5)


def read_answer(sock: socket.socket) -> bytes:
    """What the server sends until it closes; a reset ends it too."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def status_line(answer: bytes) -> str:
    return answer.split(b"\r\n", 1)[0].decode(errors="replace")


def test_a_huge_head_is_cut_off_early_while_others_are_served(target: Target) -> None:
    def send(sock: socket.socket, data: bytes) -> None:
        with suppress(OSError):
            sock.sendall(data)

    huge = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4_000_000
    with probing(target) as probes:
        started_all = time.monotonic()
        # Bounded by time more than by count: 40 heads were cut off before the probes had looked twice.
        for _ in range(ATTACK_HEADS):
            if time.monotonic() - started_all > ATTACK_SECONDS:
                break
            with connect(target) as sock:
                sender = threading.Thread(target=send, args=(sock, huge))
                started = time.monotonic()
                sender.start()
                answer = read_answer(sock)
                elapsed = time.monotonic() - started
                sender.join(10)
            assert status_line(answer) == "HTTP/1.1 431 Request Header Fields Too Large"
            assert b'"code": 3' in answer
            assert elapsed < 3
        with connect(target) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\n" + b"X-A: 1\r\n" * 150 + b"\r\n")
            assert status_line(read_answer(sock)).startswith("HTTP/1.1 431")
    probes.assert_responsive()


def _raise_open_file_limit(wanted: int) -> int:
    """Raise this process's soft open-file limit towards `wanted`; the number of sockets it then allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft - 200


def test_thousands_of_idle_and_half_sent_connections_are_shed_while_others_are_served(
    target: Target,
) -> None:
    count = min(3000, _raise_open_file_limit(3500))
    assert count > 2 * MAX_CONNECTIONS
    sockets: list[socket.socket] = []
    peak_files = 0
    with probing(target) as probes:
        try:
            for n in range(count):
                sock = connect(target)
                if n % 3 == 0:
                    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                sockets.append(sock)
                if n % 250 == 0:
                    peak_files = max(peak_files, target.open_files())
            opened_at = time.monotonic()
            while time.monotonic() - opened_at < 1:
                peak_files = max(peak_files, target.open_files())
                time.sleep(0.1)
            closed = _closed_by_server(sockets, within=5)
        finally:
            for sock in sockets:
                sock.close()
    probes.assert_responsive()
    assert peak_files < MAX_CONNECTIONS + RESERVED_FILES
    assert closed == len(sockets)


def _closed_by_server(sockets: list[socket.socket], within: float) -> int:
    """How many of `sockets` the server closes (or answers 408 and closes) within `within` seconds."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, sock)
    closed = 0
    deadline = time.monotonic() + within
    while closed < len(sockets) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.2):
            sock = key.data
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data or data.startswith(b"HTTP/1.1 408"):
                selector.unregister(sock)
                closed += 1
    selector.close()
    return closed


def _stalled_upload(target: Target, path: str, headers: dict[str, str]) -> socket.socket:
    sock = connect(target)
    lines = [f"POST {path} HTTP/1.1", "Host: x", "Content-Length: 1000000"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b"{" + b" " * 10_000)
    return sock


def test_stalled_uploads_are_refused_or_cut_off_while_others_are_served(
    target: Target, reference_audio: Path
) -> None:
    key = {"Authorization": f"Api-Key {target.server.api_key}"}
    with probing(target) as probes:
        started = time.monotonic()
        uploads = [_stalled_upload(target, "/stt/v3/recognizeFileAsync", key) for _ in range(6)]
        answers = [status_line(read_answer(sock)) for sock in uploads]
        elapsed = time.monotonic() - started
        for sock in uploads:
            sock.close()
    probes.assert_responsive()
    assert (
        sorted(answers)
        == ["HTTP/1.1 408 Request Timeout"] * 2 + ["HTTP/1.1 503 Service Unavailable"] * 4
    )
    assert elapsed < 5
    body = jfk_v3_body(reference_audio)
    del body["uri"]
    body["content"] = base64.b64encode((reference_audio / "jfk.wav").read_bytes()).decode()
    with httpx.Client(base_url=target.server.url, timeout=30) as http:
        operation_id(http.post("/stt/v3/recognizeFileAsync", json=body, headers=key))


def _errors(target: Target, code: int) -> float:
    """The server's count of requests answered (or given up) with google.rpc `code`."""
    metrics = httpx.get(target.server.url + "/metrics", timeout=5).text
    found = re.search(
        rf'^asyncstt_errors_total\{{code="{code}",where="request"\}} (\S+)$', metrics, re.M
    )
    return float(found.group(1)) if found else 0.0


def test_aborted_uploads_are_logged_at_info_and_counted_as_cancelled(target: Target) -> None:
    key = {"Authorization": f"Api-Key {target.server.api_key}"}
    cancelled = _errors(target, 1)
    for path, headers in (("/stt/v3/recognizeFileAsync", key), ("/iam/v1/tokens", {})):
        _stalled_upload(target, path, headers).close()
    deadline = time.monotonic() + 5
    while _errors(target, 1) < cancelled + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _errors(target, 1) == cancelled + 2
    assert _errors(target, 13) == 0
    log = target.log()
    assert "went away before its request was read" in log
    assert " ERROR " not in log
    assert "Traceback" not in log


def test_the_audit_log_keeps_a_refused_path_short(target: Target) -> None:
    path = "/operations/" + "x" * 30_000
    refused = httpx.get(
        target.server.url + path, headers={"Authorization": "Api-Key nope"}, timeout=10
    )
    assert refused.status_code == 401
    database = target.server.data_dir / "asyncstt.sqlite3"
    with sqlite3.connect(database) as db:
        (stored,) = db.execute("select target from audit_log order by id desc limit 1").fetchone()
    assert stored == f"GET {path[:252]}… ({len(path) + 4 - 256} more characters)"
