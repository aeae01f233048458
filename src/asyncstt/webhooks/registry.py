"""Registering folders' webhooks: the URL checked by the address guard, a fresh secret sealed for the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from asyncstt.clock import utcnow
from asyncstt.errors import NotFound
from asyncstt.settings import WebhookSettings
from asyncstt.sources.guard import Resolver, system_resolver
from asyncstt.sources.http import port_of
from asyncstt.store.base import Webhook, WebhookStore
from asyncstt.webhooks.address import parse_webhook_url, webhook_guard
from asyncstt.webhooks.signature import new_secret


class SecretBox(Protocol):
    """Seals secrets for the store and opens them again (the server key)."""

    def seal(self, plaintext: str) -> bytes: ...

    def open(self, sealed: bytes) -> str: ...


class WebhookRegistry:
    """What `asyncstt webhooks add|list|remove` do."""

    def __init__(
        self,
        store: WebhookStore,
        secrets: SecretBox,
        settings: WebhookSettings,
        *,
        resolver: Resolver = system_resolver,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._secrets = secrets
        self._guard = webhook_guard(settings.allow_private_addresses, resolver)
        self._clock = clock

    def add(self, folder_id: str, url: str) -> tuple[Webhook, str]:
        """Give the folder a webhook at `url` (replacing the one it had) with a new secret; returns the webhook
        and the secret, which is shown only this once.

        InvalidArgument for a URL that is not http(s) or whose host resolves to an address the guard refuses;
        Unavailable when the host does not resolve.
        """
        parsed = parse_webhook_url(url)
        self._guard.vet(parsed.host, port_of(parsed))
        secret = new_secret()
        webhook = Webhook(folder_id, str(parsed), self._secrets.seal(secret), self._clock())
        self._store.set_webhook(webhook)
        return webhook, secret

    def list(self) -> list[Webhook]:
        return self._store.list_webhooks()

    def remove(self, folder_id: str) -> None:
        """Remove the folder's webhook and its outbox; NotFound when it has none."""
        if not self._store.remove_webhook(folder_id):
            raise NotFound(f"folder {folder_id} has no webhook")
