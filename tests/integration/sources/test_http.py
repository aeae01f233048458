"""The http(s) source against a real HTTP server on 127.0.0.1: sockets, DNS for `localhost`, redirects."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from asyncstt.errors import InvalidArgument, NotFound, PermissionDenied
from asyncstt.settings import HttpSourceSettings, Settings
from asyncstt.sources.http import HttpSource
from asyncstt.sources.registry import SourceRegistry

pytestmark = pytest.mark.integration

AUDIO = bytes(range(256)) * 64  # 16 KB


@dataclass
class AudioServer:
    port: int
    #: "Host header + path" of every request, in order.
    requests: list[str] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.record.requests.append(f"{self.headers['Host']}{self.path}")
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path == "/audio.wav":
            self._send(200, AUDIO)
        elif parts.path == "/redirect":
            self._redirect(query["to"][0])
        elif parts.path == "/loop":
            self._redirect("/loop")
        elif parts.path == "/stream.wav":
            self._stream(int(query["bytes"][0]))
        elif parts.path == "/private.wav":
            self._send(403, b"forbidden")
        else:
            self._send(404, b"no such file")

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, size: int) -> None:
        # HTTP/1.0 style: no Content-Length, the body ends when the connection closes.
        self.close_connection = True
        self.send_response(200)
        self.end_headers()
        sent = 0
        try:
            while sent < size:
                chunk = b"\0" * min(8192, size - sent)
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up at its byte cap, as it should

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    record: AudioServer


@pytest.fixture(scope="module")
def server() -> Iterator[AudioServer]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.record = AudioServer(port=httpd.server_address[1])
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.record
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _forget_requests(server: AudioServer) -> None:
    server.requests.clear()


def _source(allowed_hosts: list[str], allow_private: bool = True) -> HttpSource:
    return HttpSource(
        HttpSourceSettings(
            allowed_hosts=allowed_hosts, allow_private_addresses=allow_private, timeout_seconds=10
        )
    )


def test_loopback_is_refused_by_default(server: AudioServer, tmp_path: Path) -> None:
    source = _source(["127.0.0.1", "localhost"], allow_private=False)
    for link in (server.url("/audio.wav"), server.url("/audio.wav", host="localhost")):
        with pytest.raises(InvalidArgument, match="allow_private_addresses"):
            source.validate(link)
        with pytest.raises(InvalidArgument, match="loopback"):
            source.fetch(link, tmp_path / "a", 10**6)
    assert server.requests == []


def test_loopback_is_read_when_private_addresses_are_allowed(
    server: AudioServer, tmp_path: Path
) -> None:
    source = _source(["127.0.0.1"])
    link = server.url("/audio.wav?X-Amz-Signature=kept&b=2")
    assert source.validate(link) == link
    assert source.fetch(link, tmp_path / "a", 10**6) == len(AUDIO)
    assert (tmp_path / "a").read_bytes() == AUDIO
    assert server.requests == [f"127.0.0.1:{server.port}/audio.wav?X-Amz-Signature=kept&b=2"]


def test_a_name_is_resolved_and_sent_as_the_host_header(
    server: AudioServer, tmp_path: Path
) -> None:
    # `localhost` may resolve to ::1 first, where nothing listens: the next address is tried.
    source = _source(["localhost"])
    assert source.fetch(server.url("/audio.wav", host="localhost"), tmp_path / "a", 10**6) == len(
        AUDIO
    )
    assert server.requests == [f"localhost:{server.port}/audio.wav"]


def test_redirects_are_followed_within_the_allowlist(server: AudioServer, tmp_path: Path) -> None:
    source = _source(["127.0.0.1", "localhost"])
    link = server.url("/redirect?to=" + server.url("/audio.wav", host="localhost"))
    assert source.fetch(link, tmp_path / "a", 10**6) == len(AUDIO)
    assert server.requests[-1] == f"localhost:{server.port}/audio.wav"


def test_a_redirect_to_an_unspecified_address_is_refused(
    server: AudioServer, tmp_path: Path
) -> None:
    # On Linux 0.0.0.0 reaches the local machine: a classic way around naive loopback checks.
    zero = "0.0.0.0"  # noqa: S104 (an address under test, nothing binds)
    source = _source(["127.0.0.1", zero])
    link = server.url("/redirect?to=" + server.url("/audio.wav", host=zero))
    with pytest.raises(InvalidArgument, match=r"0\.0\.0\.0 \(unspecified address\)"):
        source.fetch(link, tmp_path / "a", 10**6)
    assert len(server.requests) == 1
    assert not (tmp_path / "a").exists()


def test_a_redirect_to_a_host_off_the_allowlist_is_refused(
    server: AudioServer, tmp_path: Path
) -> None:
    source = _source(["127.0.0.1"])
    link = server.url("/redirect?to=" + server.url("/audio.wav", host="localhost"))
    with pytest.raises(InvalidArgument, match=r"localhost.*allowed_hosts"):
        source.fetch(link, tmp_path / "a", 10**6)
    assert len(server.requests) == 1


def test_a_redirect_loop_stops(server: AudioServer, tmp_path: Path) -> None:
    source = HttpSource(
        HttpSourceSettings(
            allowed_hosts=["127.0.0.1"], allow_private_addresses=True, max_redirects=2
        )
    )
    with pytest.raises(InvalidArgument, match="more than 2 redirects"):
        source.fetch(server.url("/loop"), tmp_path / "a", 10**6)
    assert len(server.requests) == 3


def test_missing_and_forbidden_files(server: AudioServer, tmp_path: Path) -> None:
    source = _source(["127.0.0.1"])
    with pytest.raises(NotFound, match="404"):
        source.fetch(server.url("/gone.wav"), tmp_path / "a", 10**6)
    with pytest.raises(PermissionDenied, match="403"):
        source.fetch(server.url("/private.wav"), tmp_path / "a", 10**6)


def test_an_announced_size_over_the_limit_is_refused(server: AudioServer, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="the file is 16 KB; the limit is 10 KB"):
        _source(["127.0.0.1"]).fetch(server.url("/audio.wav"), tmp_path / "a", 10 * 1024)
    assert not (tmp_path / "a").exists()


def test_a_stream_without_a_size_is_cut_at_the_limit(server: AudioServer, tmp_path: Path) -> None:
    source = _source(["127.0.0.1"])
    assert source.fetch(server.url("/stream.wav?bytes=50000"), tmp_path / "small", 50000) == 50000
    with pytest.raises(InvalidArgument, match="larger than the limit of 64 KB"):
        source.fetch(server.url("/stream.wav?bytes=100000000"), tmp_path / "a", 64 * 1024)
    assert (tmp_path / "a").stat().st_size <= 64 * 1024


def test_registry_keeps_plain_links_and_leaves_no_partial_file(
    server: AudioServer, tmp_path: Path
) -> None:
    registry = SourceRegistry(
        Settings(
            http_sources=HttpSourceSettings(
                allowed_hosts=["127.0.0.1"], allow_private_addresses=True
            )
        )
    )
    link = registry.validate(server.url("/stream.wav?bytes=100000"), "b1gfolder")
    with pytest.raises(InvalidArgument):
        registry.fetch(link, tmp_path / "cache" / "audio", 1000, "b1gfolder")
    assert list((tmp_path / "cache").iterdir()) == []
    assert registry.fetch(link, tmp_path / "cache" / "audio", 10**6, "b1gfolder") == 100000
