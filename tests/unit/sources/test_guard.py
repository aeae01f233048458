from __future__ import annotations

import io
import ipaddress
from collections.abc import Iterator

import pytest

from asyncstt.errors import InvalidArgument, Unavailable
from asyncstt.sources.guard import (
    Address,
    AddressGuard,
    Resolver,
    classify,
    copy_capped,
    format_size,
    host_allowed,
    parse_address,
    too_large,
)


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 (an address under test, nothing binds)
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a00:1", "private"),
        ("64:ff9b::7f00:1", "loopback"),
        ("8.8.8.8", None),
        ("93.184.216.34", None),
        ("172.32.0.1", None),
        ("2001:4860:4860::8888", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_classify_names_the_unsafe_ranges(address: str, category: str | None) -> None:
    assert classify(ipaddress.ip_address(address)) == category


def _resolver(table: dict[str, list[str]]) -> tuple[Resolver, list[str]]:
    """A resolver answering from `table` (OSError for other names) and the list of names it was asked."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[Address]:
        asked.append(host)
        if host not in table:
            raise OSError(-2, "Name or service not known")
        return [ipaddress.ip_address(a) for a in table[host]]

    return resolve, asked


def test_guard_refuses_a_name_resolving_to_loopback_and_names_the_setting() -> None:
    resolve, _ = _resolver({"audio.example.com": ["127.0.0.1"]})
    guard = AddressGuard(allow_private=False, resolver=resolve)
    with pytest.raises(InvalidArgument) as caught:
        guard.vet("audio.example.com", 443)
    assert "audio.example.com" in caught.value.message
    assert "127.0.0.1" in caught.value.message
    assert "loopback" in caught.value.message
    assert "http_sources.allow_private_addresses" in caught.value.message


def test_guard_refuses_when_any_record_is_private() -> None:
    resolve, _ = _resolver({"mixed.example.com": ["93.184.216.34", "10.0.0.7"]})
    guard = AddressGuard(allow_private=False, resolver=resolve)
    with pytest.raises(InvalidArgument, match=r"10\.0\.0\.7"):
        guard.vet("mixed.example.com", 443)


def test_guard_returns_public_addresses_in_resolver_order() -> None:
    resolve, _ = _resolver({"cdn.example.com": ["93.184.216.34", "2606:2800:220:1::1"]})
    guard = AddressGuard(allow_private=False, resolver=resolve)
    assert [str(a) for a in guard.vet("CDN.example.com.", 443)] == [
        "93.184.216.34",
        "2606:2800:220:1::1",
    ]


def test_guard_checks_literals_without_resolving() -> None:
    resolve, asked = _resolver({})
    guard = AddressGuard(allow_private=False, resolver=resolve)
    with pytest.raises(InvalidArgument, match="cloud metadata"):
        guard.vet("169.254.169.254", 80)
    with pytest.raises(InvalidArgument, match="loopback"):
        guard.vet("[::1]", 80)
    assert [str(a) for a in guard.vet("8.8.8.8", 80)] == ["8.8.8.8"]
    assert asked == []


def test_allowing_private_addresses_still_refuses_unspecified_multicast_and_reserved() -> None:
    resolve, _ = _resolver({"zero.example.com": ["0.0.0.0"]})  # noqa: S104
    guard = AddressGuard(allow_private=True, resolver=resolve)
    assert [str(a) for a in guard.vet("127.0.0.1", 80)] == ["127.0.0.1"]
    assert [str(a) for a in guard.vet("169.254.169.254", 80)] == ["169.254.169.254"]
    for host in ("zero.example.com", "224.0.0.1", "240.0.0.1", "[::]"):
        with pytest.raises(InvalidArgument, match="never fetched"):
            guard.vet(host, 80)


def test_guard_reports_unresolvable_names_as_unavailable() -> None:
    resolve, _ = _resolver({})
    guard = AddressGuard(allow_private=False, resolver=resolve)
    with pytest.raises(Unavailable, match=r"cannot resolve .*nowhere\.example\.com"):
        guard.vet("nowhere.example.com", 443)


@pytest.mark.parametrize(
    ("host", "patterns", "allowed"),
    [
        ("audio.example.com", ["audio.example.com"], True),
        ("Audio.Example.COM", ["audio.example.com"], True),
        ("audio.example.com.", ["audio.example.com"], True),
        ("audio.example.com", ["AUDIO.example.com"], True),
        ("a.example.com", ["*.example.com"], True),
        ("a.b.example.com", ["*.example.com"], True),
        ("example.com", ["*.example.com"], False),
        ("evilexample.com", ["*.example.com"], False),
        ("example.com.evil.net", ["*.example.com", "example.com"], False),
        ("audio.example.com", ["example.com"], False),
        ("other.org", [], False),
        ("other.org", ["*"], False),
        ("127.0.0.1", ["127.0.0.1"], True),
        ("::1", ["[::1]"], True),
        ("[0:0::1]", ["::1"], True),
        ("10.0.0.1", ["*.0.0.1"], False),
    ],
)
def test_host_allowed_matches_exact_names_and_wildcard_subdomains(
    host: str, patterns: list[str], allowed: bool
) -> None:
    assert host_allowed(host, patterns) is allowed


def test_parse_address_tells_literals_from_names() -> None:
    assert parse_address("[fe80::1]") == ipaddress.ip_address("fe80::1")
    assert parse_address("10.0.0.1") == ipaddress.ip_address("10.0.0.1")
    assert parse_address("example.com") is None


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1536, "1.5 KB"),
        (60 * 1024**2, "60 MB"),
        (1024**3, "1 GB"),
        (1288490189, "1.2 GB"),
        (3 * 1024**4, "3 TB"),
        (5 * 1024**5, "5120 TB"),
    ],
)
def test_format_size_uses_powers_of_1024(size: int, text: str) -> None:
    assert format_size(size) == text


def test_too_large_says_both_sizes() -> None:
    error = too_large("s3://b/k", 1288490189, 1024**3)
    assert error.message == "s3://b/k: the file is 1.2 GB; the limit is 1 GB"


def test_too_large_gives_exact_sizes_when_both_would_read_the_same() -> None:
    error = too_large("s3://b/k", 1024**3 + 1, 1024**3)
    assert error.message == (
        "s3://b/k: the file is 1073741825 bytes; the limit is 1073741824 bytes (1 GB)"
    )


def test_copy_capped_accepts_exactly_the_limit() -> None:
    out = io.BytesIO()
    assert copy_capped([b"ab", b"cd"], out, 4, "x") == 4
    assert out.getvalue() == b"abcd"


def test_copy_capped_stops_at_the_first_chunk_past_the_limit() -> None:
    out = io.BytesIO()
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        for index in range(100):
            pulled.append(index)
            yield b"x" * 10

    with pytest.raises(InvalidArgument, match="larger than the limit of 25 bytes"):
        copy_capped(chunks(), out, 25, "x")
    assert len(out.getvalue()) <= 25
    assert pulled == [0, 1, 2]
