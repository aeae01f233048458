"""Which webhook URLs may be called: http(s) to hosts that pass the same SSRF guard as audio links."""

from __future__ import annotations

import httpx

from asyncstt.errors import InvalidArgument
from asyncstt.sources.guard import AddressGuard, Refusals, Resolver
from asyncstt.sources.http import describe

_SCHEMES = ("http", "https")
_ALLOW_SETTING = (
    "webhooks.allow_private_addresses (ASYNCSTT_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES=true)"
)


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


#: The refusals of the guard in front of webhook URLs.
WEBHOOK_REFUSALS = Refusals("the webhook's host", "called", f"to call it, set {_ALLOW_SETTING}")


def webhook_guard(allow_private: bool, resolver: Resolver) -> AddressGuard:
    """The audio links' address guard, its refusals worded for webhooks and their own setting."""
    return AddressGuard(allow_private, resolver, WEBHOOK_REFUSALS)
