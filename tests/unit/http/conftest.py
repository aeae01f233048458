"""An app over the in-memory twins of tests/support/twins.py, with one API key per folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from asyncstt.http.app import create_app
from asyncstt.iam.auth import Authenticator
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.observability.metrics import Metrics
from asyncstt.service.operations import OperationService
from asyncstt.store.memory import InMemoryStore
from tests.factories import ManualClock
from tests.support.twins import (
    ENGLISH,
    FOLDER,
    OTHER_ACCOUNT,
    OTHER_FOLDER,
    SERVICE_ACCOUNT,
    START,
    StubSources,
    build_twins,
)

__all__ = [
    "ENGLISH",
    "FOLDER",
    "OTHER_ACCOUNT",
    "OTHER_FOLDER",
    "SERVICE_ACCOUNT",
    "START",
    "Harness",
    "StubSources",
]


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

    def make(**options: Any) -> Harness:
        """`options` go to `build_twins` (auth_required, quotas, capabilities, Settings)."""
        twins = build_twins(**options)
        app = create_app(twins.service, twins.authenticator, twins.metrics, quota=twins.quota)
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        return Harness(
            twins.store,
            twins.sources,
            twins.clock,
            twins.service,
            client,
            {"Authorization": f"Api-Key {twins.key}"},
            {"Authorization": f"Api-Key {twins.other_key}"},
            twins.identity,
            twins.authenticator,
            twins.metrics,
        )

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()
