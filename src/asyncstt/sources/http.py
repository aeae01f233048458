"""Plain http(s) links, fetched as they are (a pre-signed query kept), behind an allowlist and an SSRF guard.

DNS rebinding: each hop is resolved once, every address is checked, and the connection goes to a checked
address itself (the URL's host is swapped for the address; the `Host` header and the TLS server name keep the
original name, so virtual hosts and certificate checks still work). Re-resolving and comparing would leave a
window between the check and the connect; pinning leaves none and costs nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx

from asyncstt.errors import AsyncSttError, InvalidArgument, NotFound, PermissionDenied, Unavailable
from asyncstt.lengths import quoted
from asyncstt.settings import HttpSourceSettings
from asyncstt.sources.guard import (
    AddressGuard,
    Resolver,
    copy_capped,
    host_allowed,
    system_resolver,
    too_large,
)

_SCHEMES = ("http", "https")
_ALLOWED_HOSTS_SETTING = "http_sources.allowed_hosts (ASYNCSTT_HTTP_SOURCES__ALLOWED_HOSTS)"
_RETRYABLE_STATUSES = frozenset({408, 425, 429})


def describe(url: httpx.URL) -> str:
    """The link as safe to show back: no query (a pre-signed link's signature) and no password."""
    return quoted(str(url.copy_with(query=None, fragment=None, username=None, password=None)))


class HttpSource:
    """Reads any http(s) link whose host is allowlisted and whose addresses pass the SSRF guard."""

    def __init__(
        self,
        settings: HttpSourceSettings,
        *,
        resolver: Resolver = system_resolver,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._guard = AddressGuard(settings.allow_private_addresses, resolver)
        self._transport = transport

    def accepts(self, uri: str) -> bool:
        return uri.split(":", 1)[0].lower() in _SCHEMES

    def validate(self, uri: str) -> str:
        url = self._parse(uri)
        self._check_host(url)
        # Resolution can fail for a moment; the fetch resolves again and reports it then.
        with contextlib.suppress(Unavailable):
            self._guard.vet(url.host, port_of(url))
        return str(url)

    def fetch(self, uri: str, destination: Path, max_bytes: int) -> int:
        url = self._parse(uri)
        with httpx.Client(
            transport=self._transport,
            timeout=httpx.Timeout(self._settings.timeout_seconds),
            follow_redirects=False,
            # Proxies from the environment would connect on our behalf and bypass the pinned address.
            trust_env=False,
        ) as client:
            for _ in range(self._settings.max_redirects + 1):
                self._check_host(url)
                with self._get(client, url) as response:
                    if response.is_redirect:
                        url = self._redirect_target(url, response)
                        continue
                    _raise_for_status(url, response)
                    return _save(url, response, destination, max_bytes)
        raise InvalidArgument(
            f"{describe(url)}: more than {self._settings.max_redirects} redirects; raise "
            "http_sources.max_redirects (ASYNCSTT_HTTP_SOURCES__MAX_REDIRECTS) if they are expected"
        )

    def _parse(self, uri: str) -> httpx.URL:
        try:
            url = httpx.URL(uri)
        except httpx.InvalidURL as exc:
            raise InvalidArgument(f"malformed link: {exc}") from exc
        if url.scheme not in _SCHEMES:
            raise InvalidArgument(f"only http and https links are fetched, not {url.scheme}://")
        if not url.host:
            raise InvalidArgument(f"the link {describe(url)} names no host")
        return url

    def _check_host(self, url: httpx.URL) -> None:
        if host_allowed(url.host, self._settings.allowed_hosts):
            return
        raise InvalidArgument(
            f"links to {url.host} are not read: the host is neither the object storage "
            "(storage.endpoint_url, storage.aliases) nor allowed for plain http(s) downloads; "
            f"to allow it, add it to {_ALLOWED_HOSTS_SETTING} (exact name or *.domain)"
        )

    @contextlib.contextmanager
    def _get(self, client: httpx.Client, url: httpx.URL) -> Iterator[httpx.Response]:
        """GET `url` from one of its vetted addresses, trying them in the resolver's order."""
        addresses = self._guard.vet(url.host, port_of(url))
        failure: httpx.TransportError | None = None
        for address in addresses:
            request = client.build_request(
                "GET",
                url.copy_with(host=str(address)),
                headers={"Host": url.netloc.decode("ascii"), "Accept-Encoding": "identity"},
                extensions={"sni_hostname": url.host},
            )
            try:
                response = client.send(request, stream=True)
            except httpx.ConnectError as exc:
                failure = exc
                continue
            except httpx.TimeoutException as exc:
                raise self._timed_out(url) from exc
            except httpx.TransportError as exc:
                raise Unavailable(f"{describe(url)}: {exc}") from exc
            try:
                yield response
            except httpx.TimeoutException as exc:
                raise self._timed_out(url) from exc
            except httpx.TransportError as exc:
                raise Unavailable(f"{describe(url)}: the download broke off: {exc}") from exc
            finally:
                response.close()
            return
        raise Unavailable(f"cannot connect to {url.host} for {describe(url)}: {failure}")

    def _redirect_target(self, url: httpx.URL, response: httpx.Response) -> httpx.URL:
        try:
            target = url.join(response.headers["location"])
        except httpx.InvalidURL as exc:
            raise InvalidArgument(f"{describe(url)} redirects to a malformed link: {exc}") from exc
        if target.scheme not in _SCHEMES or not target.host:
            raise InvalidArgument(
                f"{describe(url)} redirects to {describe(target)}, which is not http(s)"
            )
        return target

    def _timed_out(self, url: httpx.URL) -> Unavailable:
        return Unavailable(
            f"{describe(url)}: no answer within {self._settings.timeout_seconds:g} s; raise "
            "http_sources.timeout_seconds (ASYNCSTT_HTTP_SOURCES__TIMEOUT_SECONDS) for slow servers"
        )


def port_of(url: httpx.URL) -> int:
    """The port a URL is reached on, its scheme's default when it names none."""
    return url.port or (443 if url.scheme == "https" else 80)


def _raise_for_status(url: httpx.URL, response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    answer = f"{describe(url)}: the server answered {status} {response.reason_phrase}".rstrip()
    error: AsyncSttError
    if status in {404, 410}:
        error = NotFound(answer)
    elif status in {401, 403}:
        error = PermissionDenied(answer)
    elif status >= 500 or status in _RETRYABLE_STATUSES:
        error = Unavailable(answer)
    else:
        error = InvalidArgument(answer)
    raise error


def _save(url: httpx.URL, response: httpx.Response, destination: Path, max_bytes: int) -> int:
    what = describe(url)
    announced = response.headers.get("content-length")
    if announced is not None and announced.isdigit() and int(announced) > max_bytes:
        raise too_large(what, int(announced), max_bytes)
    with destination.open("wb") as out:
        return copy_capped(response.iter_bytes(), out, max_bytes, what)
