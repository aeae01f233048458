"""Guards every fetch runs behind: which hosts and addresses may be reached, and how many bytes may arrive."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from asyncstt.errors import InvalidArgument, Unavailable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Turns a host name and port into the addresses a connection could go to.
Resolver = Callable[[str, int], list[Address]]

#: Instance metadata endpoints of the big clouds (AWS, GCP, Azure, Yandex Cloud, AWS over IPv6).
METADATA_ADDRESSES: frozenset[Address] = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
#: Categories refused even when private addresses are allowed: no audio server lives there, and
#: 0.0.0.0 reaches the local machine on Linux.
ALWAYS_REFUSED = frozenset({"unspecified", "multicast", "reserved"})
#: The well-known NAT64 prefix embeds an IPv4 address that the gateway connects to.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_UNITS = ("bytes", "KB", "MB", "GB", "TB")


def classify(address: Address) -> str | None:
    """The category that makes `address` unsafe to fetch from, or None for a public address."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return classify(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    # After loopback: Python counts ::1 inside the reserved ::/8.
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "private"
    return None


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def normalise_host(host: str) -> str:
    """Lower case, no brackets around IPv6 literals, no trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


def host_allowed(host: str, patterns: Sequence[str]) -> bool:
    """True when `host` equals one of `patterns` or is below a `*.domain` pattern."""
    name = normalise_host(host)
    literal = parse_address(name)
    for raw in patterns:
        pattern = normalise_host(raw)
        if pattern.startswith("*."):
            if name.endswith(pattern[1:]) and literal is None:
                return True
        elif pattern == name or (literal is not None and parse_address(pattern) == literal):
            return True
    return False


def parse_address(host: str) -> Address | None:
    """The address `host` spells literally (IPv4 or IPv6), or None for a name."""
    try:
        return ipaddress.ip_address(normalise_host(host))
    except ValueError:
        return None


def system_resolver(host: str, port: int) -> list[Address]:
    """Every address the system resolver gives for `host`, in its order of preference."""
    found: list[Address] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        # An IPv6 link-local answer carries its zone ("fe80::1%eth0"); the zone is not part of the address.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True)
class Refusals:
    """How a guard's refusals name what it guards: whose host, what is never done, how to allow it."""

    host_of: str
    never: str
    to_allow: str


#: The refusals of the guard in front of audio links.
LINK_REFUSALS = Refusals(
    "the link's host",
    "fetched",
    "to fetch from it, set http_sources.allow_private_addresses "
    "(ASYNCSTT_HTTP_SOURCES__ALLOW_PRIVATE_ADDRESSES=true)",
)


class AddressGuard:
    """Refuses hosts that resolve to addresses a server must not be tricked into reaching (SSRF)."""

    def __init__(
        self,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        refusals: Refusals = LINK_REFUSALS,
    ) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._refusals = refusals

    def check_address(self, host: str, address: Address) -> None:
        """Raise InvalidArgument when `address` (which `host` resolved to) may not be reached."""
        category = classify(address)
        if category is None:
            return
        refusals = self._refusals
        if category in ALWAYS_REFUSED:
            raise InvalidArgument(
                f"{refusals.host_of} {host} resolves to {address} ({category} address), "
                f"which is never {refusals.never}"
            )
        if not self._allow_private:
            raise InvalidArgument(
                f"{refusals.host_of} {host} resolves to {address} ({category} address), which is refused "
                f"to guard against server-side request forgery; {refusals.to_allow}"
            )

    def vet(self, host: str, port: int) -> list[Address]:
        """Resolve `host` and return its addresses, all of them checked; refuse if any is unsafe.

        Every address must pass, not just one: otherwise a name with one public and one private record
        could steer the connection to the private one.
        """
        literal = parse_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                addresses = self._resolver(normalise_host(host), port)
            except (OSError, UnicodeError) as exc:
                raise Unavailable(f"cannot resolve the link's host {host}: {exc}") from exc
        if not addresses:
            raise Unavailable(f"the link's host {host} has no addresses")
        for address in addresses:
            self.check_address(host, address)
        return addresses


def format_size(size: int) -> str:
    """`1288490189` -> `1.2 GB`, in powers of 1024 as the limits are."""
    exponent = 0
    while exponent < len(_UNITS) - 1 and size >= 1024 ** (exponent + 1):
        exponent += 1
    if exponent == 0:
        return f"{size} bytes"
    return f"{size / 1024**exponent:.1f}".removesuffix(".0") + f" {_UNITS[exponent]}"


def too_large(what: str, size: int, limit: int) -> InvalidArgument:
    """The error for a file whose announced size is over the limit."""
    shown, allowed = format_size(size), format_size(limit)
    if shown == allowed:
        # Just over the limit, both round to one figure: the exact sizes say what is wrong.
        shown, allowed = f"{size} bytes", f"{limit} bytes ({allowed})"
    return InvalidArgument(f"{what}: the file is {shown}; the limit is {allowed}")


def copy_capped(chunks: Iterable[bytes], out: BinaryIO, max_bytes: int, what: str) -> int:
    """Write `chunks` to `out` and return the byte count; stop as soon as more than `max_bytes` arrive."""
    written = 0
    for chunk in chunks:
        written += len(chunk)
        if written > max_bytes:
            raise InvalidArgument(
                f"{what}: the file is larger than the limit of {format_size(max_bytes)}"
            )
        out.write(chunk)
    return written
