"""The http(s) source against an in-process transport and a table resolver: no sockets, no DNS."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from asyncstt.errors import InvalidArgument, NotFound, PermissionDenied, Unavailable
from asyncstt.settings import HttpSourceSettings
from asyncstt.sources.guard import Address
from asyncstt.sources.http import HttpSource

PUBLIC = "93.184.216.34"
DNS = {
    "audio.example.com": [PUBLIC],
    "mirror.example.com": ["203.0.113.9", "198.51.100.7"],
    "cdn.example.net": ["2606:2800:220:1::1"],
    "intranet.example.com": ["10.0.0.5"],
}
# The documentation ranges above are not global; let the table stand for public hosts.
PUBLIC_STANDINS = {"203.0.113.9": "151.101.1.1", "198.51.100.7": "151.101.65.1"}


def resolve(host: str, port: int) -> list[Address]:
    if host not in DNS:
        raise OSError(-2, "Name or service not known")
    return [ipaddress.ip_address(PUBLIC_STANDINS.get(a, a)) for a in DNS[host]]


def make_source(
    handler: Callable[[httpx.Request], httpx.Response],
    allowed_hosts: list[str] | None = None,
    max_redirects: int = 5,
    timeout_seconds: float = 30.0,
) -> HttpSource:
    return HttpSource(
        HttpSourceSettings(
            allowed_hosts=allowed_hosts
            if allowed_hosts is not None
            else ["*.example.com", "*.example.net"],
            max_redirects=max_redirects,
            timeout_seconds=timeout_seconds,
        ),
        resolver=resolve,
        transport=httpx.MockTransport(handler),
    )


def serve(
    body: bytes = b"RIFFdata", status: int = 200, **headers: str
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers)

    return handler


def test_no_allowed_hosts_means_no_plain_links() -> None:
    source = make_source(serve(), allowed_hosts=[])
    with pytest.raises(InvalidArgument) as caught:
        source.validate("https://audio.example.com/a.wav")
    assert "audio.example.com" in caught.value.message
    assert "http_sources.allowed_hosts" in caught.value.message


def test_hosts_outside_the_allowlist_are_refused_at_submit() -> None:
    source = make_source(serve(), allowed_hosts=["audio.example.com"])
    assert (
        source.validate("https://audio.example.com/a.wav?sig=1")
        == "https://audio.example.com/a.wav?sig=1"
    )
    with pytest.raises(InvalidArgument, match=r"mirror\.example\.com.*http_sources\.allowed_hosts"):
        source.validate("https://mirror.example.com/a.wav")


def test_submit_refuses_private_addresses_naming_the_setting() -> None:
    source = make_source(serve(), allowed_hosts=["*.example.com", "127.0.0.1"])
    with pytest.raises(InvalidArgument, match=r"intranet\.example\.com.*allow_private_addresses"):
        source.validate("https://intranet.example.com/a.wav")
    with pytest.raises(InvalidArgument, match="loopback"):
        source.validate("http://127.0.0.1:8080/a.wav")


def test_submit_lets_an_unresolvable_name_through_for_the_fetch_to_report() -> None:
    source = make_source(serve())
    assert source.validate("https://later.example.com/a.wav")
    with pytest.raises(Unavailable, match=r"cannot resolve .*later\.example\.com"):
        source.fetch("https://later.example.com/a.wav", Path("unused"), 100)


def test_fetch_connects_to_the_vetted_address_with_the_original_host(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"RIFF....WAVE")

    source = make_source(handler)
    size = source.fetch(
        "https://audio.example.com:8443/dir/a%20b.wav?X-Amz-Signature=s1", tmp_path / "a", 100
    )
    assert size == 12
    assert (tmp_path / "a").read_bytes() == b"RIFF....WAVE"
    (request,) = seen
    assert request.url.host == PUBLIC
    assert request.url.port == 8443
    assert request.url.raw_path == b"/dir/a%20b.wav?X-Amz-Signature=s1"
    assert request.headers["host"] == "audio.example.com:8443"
    assert request.extensions["sni_hostname"] == "audio.example.com"


def test_fetch_pins_ipv6_addresses(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"x")

    make_source(handler).fetch("https://cdn.example.net/a.wav", tmp_path / "a", 100)
    assert seen[0].url.host == "2606:2800:220:1::1"
    assert seen[0].headers["host"] == "cdn.example.net"


def test_fetch_tries_the_next_address_when_one_refuses_connections(tmp_path: Path) -> None:
    tried: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        tried.append(request.url.host)
        if len(tried) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, content=b"ok")

    assert make_source(handler).fetch("https://mirror.example.com/a.wav", tmp_path / "a", 100) == 2
    assert tried == ["151.101.1.1", "151.101.65.1"]


def test_fetch_reports_unreachable_hosts_as_unavailable(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(Unavailable, match=r"cannot connect to audio\.example\.com"):
        make_source(handler).fetch("https://audio.example.com/a.wav", tmp_path / "a", 100)


def test_timeouts_name_the_setting(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(Unavailable, match=r"http_sources\.timeout_seconds"):
        make_source(handler, timeout_seconds=2.5).fetch(
            "https://audio.example.com/a.wav", tmp_path / "a", 100
        )


def redirecting(
    routes: dict[str, str], seen: list[str]
) -> Callable[[httpx.Request], httpx.Response]:
    """Redirect from the paths in `routes` to their targets; serve audio anywhere else."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.headers['host']}{request.url.path}")
        target = routes.get(request.url.path)
        if target is not None:
            return httpx.Response(302, headers={"Location": target})
        return httpx.Response(200, content=b"audio")

    return handler


def test_redirects_are_followed_and_rechecked(tmp_path: Path) -> None:
    seen: list[str] = []
    handler = redirecting({"/a": "https://mirror.example.com/b", "/b": "/c"}, seen)
    assert make_source(handler).fetch("https://audio.example.com/a", tmp_path / "a", 100) == 5
    assert seen == ["audio.example.com/a", "mirror.example.com/b", "mirror.example.com/c"]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
        ("https://intranet.example.com/admin", "private"),
        ("http://127.0.0.1:2375/containers", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("https://elsewhere.org/a.wav", "allowed_hosts"),
        ("ftp://audio.example.com/a.wav", "not http"),
    ],
)
def test_a_redirect_to_a_refused_place_is_refused(tmp_path: Path, target: str, reason: str) -> None:
    seen: list[str] = []
    source = make_source(
        redirecting({"/a": target}, seen),
        allowed_hosts=[
            "*.example.com",
            "169.254.169.254",
            "fd00:ec2::254",
            "127.0.0.1",
            "::ffff:127.0.0.1",
        ],
    )
    with pytest.raises(InvalidArgument, match=reason):
        source.fetch("https://audio.example.com/a", tmp_path / "a", 100)
    assert seen == ["audio.example.com/a"]
    assert not (tmp_path / "a").exists()


def test_too_many_redirects_are_refused(tmp_path: Path) -> None:
    seen: list[str] = []
    source = make_source(redirecting({"/a": "/a"}, seen), max_redirects=3)
    with pytest.raises(InvalidArgument, match=r"more than 3 redirects.*max_redirects"):
        source.fetch("https://audio.example.com/a", tmp_path / "a", 100)
    assert len(seen) == 4


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (404, NotFound),
        (410, NotFound),
        (401, PermissionDenied),
        (403, PermissionDenied),
        (400, InvalidArgument),
        (416, InvalidArgument),
        (429, Unavailable),
        (500, Unavailable),
        (503, Unavailable),
    ],
)
def test_http_statuses_map_to_errors(tmp_path: Path, status: int, error: type[Exception]) -> None:
    source = make_source(serve(b"nope", status=status))
    with pytest.raises(error, match=str(status)) as caught:
        source.fetch("https://audio.example.com/a.wav?X-Amz-Signature=secret", tmp_path / "a", 100)
    assert "secret" not in str(caught.value)
    assert not (tmp_path / "a").exists()


def test_an_announced_size_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    pulled: list[int] = []

    def body() -> Iterator[bytes]:
        pulled.append(1)
        yield b"x" * 2048

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body(), headers={"Content-Length": "2048"})

    with pytest.raises(InvalidArgument, match="the file is 2 KB; the limit is 1 KB"):
        make_source(handler).fetch("https://audio.example.com/a.wav", tmp_path / "a", 1024)
    assert pulled == []
    assert not (tmp_path / "a").exists()


def test_a_stream_without_a_size_is_cut_at_the_limit(tmp_path: Path) -> None:
    pulled: list[int] = []

    def body() -> Iterator[bytes]:
        for index in range(1000):
            pulled.append(index)
            yield b"x" * 100

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body())

    with pytest.raises(InvalidArgument, match="larger than the limit of 1000 bytes"):
        make_source(handler).fetch("https://audio.example.com/a.wav", tmp_path / "a", 1000)
    assert len(pulled) < 1000
    assert (tmp_path / "a").stat().st_size <= 1000


def test_accepts_only_http_and_https() -> None:
    source = make_source(serve())
    assert source.accepts("https://audio.example.com/a.wav")
    assert source.accepts("HTTP://audio.example.com/a.wav")
    assert not source.accepts("s3://bucket/a.wav")
    assert not source.accepts("file:///a.wav")
