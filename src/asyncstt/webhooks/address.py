"""Which webhook URLs may be called: http(s) to hosts that pass the same SSRF guard as audio links."""

from __future__ import annotations

import httpx

from asyncstt.errors import InvalidArgument
from asyncstt.sources.guard import ALWAYS_REFUSED, Address, AddressGuard, classify

_SCHEMES = ("http", "https")
_ALLOW_SETTING = (
    "webhooks.allow_private_addresses (ASYNCSTT_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES=true)"
)


def describe(url: httpx.URL) -> str:
    """The URL as safe to show back: no password and no query, which may carry a token."""
    return str(url.copy_with(query=None, fragment=None, username=None, password=None))


def parse_webhook_url(url: str) -> httpx.URL:
    """`url` parsed; InvalidArgument unless it is an http(s) URL with a host."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise InvalidArgument(f"malformed webhook URL: {exc}") from exc
    if parsed.scheme not in _SCHEMES:
        raise InvalidArgument(f"a webhook URL is http or https, not {parsed.scheme or 'relative'}")
    if not parsed.host:
        raise InvalidArgument(f"the webhook URL {describe(parsed)} names no host")
    return parsed


def port_of(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


class WebhookGuard(AddressGuard):
    """The audio links' address guard, with its refusals worded for webhooks and their own setting."""

    def check_address(self, host: str, address: Address) -> None:
        category = classify(address)
        if category is None:
            return
        if category in ALWAYS_REFUSED:
            raise InvalidArgument(
                f"the webhook's host {host} resolves to {address} ({category} address), "
                "which is never called"
            )
        if not self._allow_private:
            raise InvalidArgument(
                f"the webhook's host {host} resolves to {address} ({category} address), which is "
                f"refused to guard against server-side request forgery; to call it, set {_ALLOW_SETTING}"
            )
