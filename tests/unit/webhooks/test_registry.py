"""Registering a webhook: the URL passes the address guard, the secret is sealed with the server key."""

from __future__ import annotations

import ipaddress

import pytest

from asyncstt.errors import InvalidArgument, NotFound, Unavailable
from asyncstt.iam.server_key import ServerKey
from asyncstt.settings import WebhookSettings
from asyncstt.sources.guard import Address
from asyncstt.store.memory import InMemoryStore
from asyncstt.webhooks.registry import WebhookRegistry
from tests.factories import T0, ManualClock

KEY = ServerKey(b"0123456789abcdef0123456789abcdef")


def _registry(store: InMemoryStore, *, allow_private: bool = False) -> WebhookRegistry:
    def resolve(host: str, port: int) -> list[Address]:
        table = {
            "hooks.example.com": ["93.184.216.34"],
            "intranet.example.com": ["93.184.216.34", "192.168.1.10"],
        }
        if host not in table:
            raise OSError("Name or service not known")
        return [ipaddress.ip_address(a) for a in table[host]]

    settings = WebhookSettings(allow_private_addresses=allow_private)
    return WebhookRegistry(store, KEY, settings, resolver=resolve, clock=ManualClock(T0))


def test_add_keeps_the_url_and_the_secret_sealed() -> None:
    store = InMemoryStore()
    webhook, secret = _registry(store).add("b1gfolder", "https://hooks.example.com/in")
    assert store.get_webhook("b1gfolder") == webhook
    assert (webhook.url, webhook.created_at) == ("https://hooks.example.com/in", T0)
    assert secret.encode() not in webhook.encrypted_secret
    assert KEY.open(webhook.encrypted_secret) == secret


def test_adding_again_replaces_the_url_and_the_secret() -> None:
    store = InMemoryStore()
    registry = _registry(store)
    _, first = registry.add("b1gfolder", "https://hooks.example.com/in")
    webhook, second = registry.add("b1gfolder", "http://hooks.example.com/v2")
    assert first != second
    assert store.list_webhooks() == [webhook]
    assert KEY.open(webhook.encrypted_secret) == second


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1 (loopback address)"),
        ("http://[::1]/hook", "::1 (loopback address)"),
        ("http://10.1.2.3/hook", "10.1.2.3 (private address)"),
        ("http://169.254.169.254/latest", "169.254.169.254 (cloud metadata address)"),
        ("https://intranet.example.com/hook", "192.168.1.10 (private address)"),
    ],
)
def test_private_addresses_are_refused(url: str, refusal: str) -> None:
    store = InMemoryStore()
    with pytest.raises(InvalidArgument) as raised:
        _registry(store).add("b1gfolder", url)
    assert refusal in raised.value.message
    assert "webhooks.allow_private_addresses" in raised.value.message
    assert store.list_webhooks() == []


def test_private_addresses_are_accepted_when_the_operator_allows_them() -> None:
    store = InMemoryStore()
    webhook, _ = _registry(store, allow_private=True).add("b1gfolder", "http://127.0.0.1:8080/h")
    assert webhook.url == "http://127.0.0.1:8080/h"
    # Never these, whatever the setting.
    with pytest.raises(InvalidArgument, match="never called"):
        _registry(store, allow_private=True).add("b1gfolder", "http://0.0.0.0/h")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/in", "http or https, not ftp"),
        ("/relative", "http or https, not relative"),
        ("http:///no-host", "names no host"),
    ],
)
def test_urls_that_are_not_http_are_refused(url: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        _registry(InMemoryStore()).add("b1gfolder", url)


def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(Unavailable, match="cannot resolve"):
        _registry(InMemoryStore()).add("b1gfolder", "https://nowhere.example.com/in")


def test_remove_drops_the_webhook_and_says_when_there_was_none() -> None:
    store = InMemoryStore()
    registry = _registry(store)
    registry.add("b1gfolder", "https://hooks.example.com/in")
    registry.remove("b1gfolder")
    assert store.get_webhook("b1gfolder") is None
    with pytest.raises(NotFound, match="has no webhook"):
        registry.remove("b1gfolder")
