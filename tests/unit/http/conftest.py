"""An app over InMemoryStore, a stub link checker and an English-only engine, with one API key per folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from asyncstt.engines.base import EngineCapabilities
from asyncstt.errors import InvalidArgument
from asyncstt.http.app import create_app
from asyncstt.iam.api_keys import create_api_key
from asyncstt.iam.audit import Auditor
from asyncstt.iam.auth import Authenticator
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.iam.memory_counter import InMemoryQuotaCounter
from asyncstt.iam.quota import QuotaLimiter
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.tokens import TokenService
from asyncstt.observability.metrics import Metrics
from asyncstt.service.operations import OperationService
from asyncstt.settings import QuotaSettings, Settings
from asyncstt.store.memory import InMemoryStore
from tests.factories import ManualClock

START = datetime(2025, 3, 2, 10, 15, 7, tzinfo=UTC)
SERVICE_ACCOUNT = "ajeq7r2m5t8v1x4z6b9c"
OTHER_ACCOUNT = "ajeother"
FOLDER = "b1gfolder"
OTHER_FOLDER = "b1gother"
ENGLISH = EngineCapabilities("fake", frozenset({"en-US"}), detects_language=False)


@dataclass
class StubSources:
    """Accepts `s3://` and `https://` links; `failures` maps a link to the exception checking it raises."""

    failures: dict[str, Exception] = field(default_factory=dict)

    def validate(self, uri: str, folder_id: str) -> str:
        if uri in self.failures:
            raise self.failures[uri]
        if not uri.startswith(("s3://", "https://")):
            raise InvalidArgument(f"links like {uri} are not supported")
        return uri


@dataclass
class Harness:
    store: InMemoryStore
    sources: StubSources
    clock: ManualClock
    service: OperationService
    client: TestClient
    headers: dict[str, str]
    other_headers: dict[str, str]
    identity: InMemoryIdentityStore
    authenticator: Authenticator
    metrics: Metrics


@pytest.fixture
def make_harness() -> Iterator[Callable[..., Harness]]:
    clients: list[TestClient] = []

    def make(
        *,
        auth_required: bool = True,
        quotas: QuotaSettings | None = None,
        capabilities: EngineCapabilities = ENGLISH,
        **settings: Any,
    ) -> Harness:
        """Quotas are off unless `quotas` are given, so that tests that poll often need no clock."""
        store = InMemoryStore()
        identity = InMemoryIdentityStore()
        sources = StubSources()
        clock = ManualClock(START)
        service = OperationService(store, sources, capabilities, Settings(**settings), clock)
        authenticator = Authenticator(
            identity,
            TokenService(identity, ServerKey(b"0123456789abcdef0123"), service.settings.iam, clock),
            service.settings.iam,
            Auditor(identity, clock),
            required=auth_required,
            clock=clock,
        )
        quota = QuotaLimiter(InMemoryQuotaCounter(), quotas or QuotaSettings(enabled=False), clock)
        metrics = Metrics()
        app = create_app(service, authenticator, metrics, quota=quota)
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        key = create_api_key(identity, FOLDER, SERVICE_ACCOUNT, START)[1]
        other_key = create_api_key(identity, OTHER_FOLDER, OTHER_ACCOUNT, START)[1]
        return Harness(
            store,
            sources,
            clock,
            service,
            client,
            {"Authorization": f"Api-Key {key}"},
            {"Authorization": f"Api-Key {other_key}"},
            identity,
            authenticator,
            metrics,
        )

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()
