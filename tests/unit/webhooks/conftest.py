"""A folder with a webhook on the in-memory store, a receiver behind a mock transport, and a fake clock."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from asyncstt.errors import ErrorInfo
from asyncstt.iam.server_key import ServerKey
from asyncstt.settings import Settings, WebhookSettings
from asyncstt.sources.guard import Address
from asyncstt.store.memory import InMemoryStore
from asyncstt.webhooks.deliverer import WebhookDeliverer
from asyncstt.webhooks.registry import WebhookRegistry
from asyncstt.webhooks.sender import Sender
from tests.factories import T0, ManualClock, make_operation, make_transcript

HOOK_URL = "https://hooks.example.com/asyncstt?token=abc"
PUBLIC = ipaddress.ip_address("93.184.216.34")
PRIVATE = ipaddress.ip_address("10.0.0.5")
FOLDER = make_operation("x").folder_id


@dataclass
class Receiver:
    """Answers each request with the next status (200 when none is left) and keeps what it received."""

    statuses: list[int] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    #: Fail every request as a receiver that is down would.
    refuse_connections: bool = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.refuse_connections:
            raise httpx.ConnectError("connection refused", request=request)
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        return httpx.Response(status, text="" if status < 300 else "busy")

    def bodies(self) -> list[dict[str, object]]:
        return [json.loads(request.content) for request in self.requests]


@dataclass
class Rig:
    store: InMemoryStore
    clock: ManualClock
    receiver: Receiver
    addresses: dict[str, list[Address]]
    server_key: ServerKey
    deliverer: WebhookDeliverer
    registry: WebhookRegistry
    secret: str

    def finish(self, operation_id: str, error: ErrorInfo | None = None) -> None:
        """Create, claim and end an operation of the folder now."""
        self.store.create(make_operation(operation_id, created_at=self.clock()))
        claim = self.store.claim("owner", 30, self.clock())
        assert claim is not None
        assert claim.operation.id == operation_id
        result = None if error is not None else make_transcript(3, 1, text="secret words")
        assert self.store.finish(operation_id, "owner", self.clock(), result=result, error=error)


def _resolver(addresses: dict[str, list[Address]]) -> Callable[[str, int], list[Address]]:
    def resolve(host: str, port: int) -> list[Address]:
        return addresses[host]

    return resolve


@pytest.fixture
def rig() -> Rig:
    clock = ManualClock(T0)
    store = InMemoryStore()
    receiver = Receiver()
    addresses: dict[str, list[Address]] = {"hooks.example.com": [PUBLIC]}
    key = ServerKey(b"0123456789abcdef0123456789abcdef")
    settings = Settings(webhooks=WebhookSettings())
    sender = Sender(
        settings.webhooks, resolver=_resolver(addresses), transport=httpx.MockTransport(receiver)
    )
    deliverer = WebhookDeliverer(store, key, settings, sender=sender, clock=clock)
    registry = WebhookRegistry(
        store, key, settings.webhooks, resolver=_resolver(addresses), clock=clock
    )
    _, secret = registry.add(FOLDER, HOOK_URL)
    return Rig(store, clock, receiver, addresses, key, deliverer, registry, secret)
