"""The in-memory twins the REST and gRPC harnesses serve: InMemoryStore, a stub link checker, an English-only
engine, a manual clock at START, the IAM over an in-memory identity store and one API key per folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asyncstt.engines.base import EngineCapabilities
from asyncstt.errors import InvalidArgument
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
#: An engine that knows three languages and detects among them.
MULTILINGUAL = EngineCapabilities(
    "multi", frozenset({"en-US", "de-DE", "ru-RU"}), detects_language=True
)


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
class Twins:
    """One world of twins; `key` is the secret of the API key in FOLDER (SERVICE_ACCOUNT), `other_key` the one
    in OTHER_FOLDER (OTHER_ACCOUNT)."""

    store: InMemoryStore
    sources: StubSources
    clock: ManualClock
    service: OperationService
    identity: InMemoryIdentityStore
    authenticator: Authenticator
    quota: QuotaLimiter
    metrics: Metrics
    key: str
    other_key: str


def build_twins(
    *,
    auth_required: bool = True,
    quotas: QuotaSettings | None = None,
    capabilities: EngineCapabilities = ENGLISH,
    **settings: Any,
) -> Twins:
    """Quotas are off unless `quotas` are given, so that tests that poll often need no clock; `settings` go to
    Settings."""
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
    return Twins(
        store,
        sources,
        clock,
        service,
        identity,
        authenticator,
        quota,
        Metrics(),
        create_api_key(identity, FOLDER, SERVICE_ACCOUNT, START)[1],
        create_api_key(identity, OTHER_FOLDER, OTHER_ACCOUNT, START)[1],
    )
