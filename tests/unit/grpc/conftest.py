"""A gRPC server on 127.0.0.1 (a free port) over the in-memory twins of the REST harness, and a channel to it.

The world is the one of `tests/support/twins.py`: InMemoryStore, a stub link checker, an English-only engine, a
manual clock at START and one API key per folder (`metadata` and `other_metadata` carry them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import grpc
import pytest

from asyncstt.grpc.context import Door
from asyncstt.grpc.server import GrpcServer
from asyncstt.iam.auth import Authenticator
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.iam.quota import QuotaLimiter
from asyncstt.observability.metrics import Metrics
from asyncstt.service.operations import OperationService
from asyncstt.store.memory import InMemoryStore
from tests.factories import ManualClock
from tests.support.twins import (
    FOLDER,
    OTHER_ACCOUNT,
    OTHER_FOLDER,
    SERVICE_ACCOUNT,
    START,
    StubSources,
    build_twins,
)

__all__ = [
    "FOLDER",
    "OTHER_ACCOUNT",
    "OTHER_FOLDER",
    "SERVICE_ACCOUNT",
    "START",
    "GrpcHarness",
    "open_channel",
    "refused",
]

Stub = TypeVar("Stub")
Metadata = tuple[tuple[str, str], ...]
#: What a channel of the harness may send and receive, as large as the server's own limit.
CHANNEL_LIMIT = 200 * 1024**2


@dataclass
class GrpcHarness:
    store: InMemoryStore
    sources: StubSources
    clock: ManualClock
    service: OperationService
    identity: InMemoryIdentityStore
    authenticator: Authenticator
    quota: QuotaLimiter
    metrics: Metrics
    #: The door as the server completed it: `public_address` is `127.0.0.1:<port>`.
    door: Door
    server: GrpcServer
    channel: grpc.Channel
    #: `authorization` of the API key in FOLDER (SERVICE_ACCOUNT) and in OTHER_FOLDER (OTHER_ACCOUNT).
    metadata: Metadata
    other_metadata: Metadata

    @property
    def address(self) -> str:
        return self.server.address

    def stub(self, stub_class: Callable[[grpc.Channel], Stub]) -> Stub:
        """A generated stub (e.g. `OperationServiceStub`) on the harness's channel."""
        return stub_class(self.channel)


def open_channel(address: str, root_certificates: bytes | None = None) -> grpc.Channel:
    """A channel to `address`: plaintext, or TLS trusting `root_certificates`."""
    options = [
        ("grpc.max_receive_message_length", CHANNEL_LIMIT),
        ("grpc.max_send_message_length", CHANNEL_LIMIT),
    ]
    if root_certificates is None:
        return grpc.insecure_channel(address, options=options)
    credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
    return grpc.secure_channel(address, credentials, options=options)


def refused(call: Callable[[], object]) -> grpc.Call:
    """The error `call` ends with (its `code()`, `details()`, `trailing_metadata()`); fails when it succeeds."""
    with pytest.raises(grpc.RpcError) as raised:
        call()
    # grpc's errors are Calls too; the stubs' signatures of the two disagree, so they cannot say it.
    return cast(grpc.Call, raised.value)


@pytest.fixture
def make_grpc() -> Iterator[Callable[..., GrpcHarness]]:
    built: list[GrpcHarness] = []

    def make(*, root_certificates: bytes | None = None, **options: Any) -> GrpcHarness:
        """`options` go to `build_twins` (auth_required, quotas, capabilities, Settings: `grpc={...}` for TLS,
        with `root_certificates` for the channel to trust)."""
        twins = build_twins(**options)
        door = Door(
            twins.service,
            twins.authenticator,
            twins.quota,
            twins.metrics,
            twins.service.settings,
            public_address="",
        )
        server = GrpcServer(door, port=0)
        server.start()
        harness = GrpcHarness(
            twins.store,
            twins.sources,
            twins.clock,
            twins.service,
            twins.identity,
            twins.authenticator,
            twins.quota,
            twins.metrics,
            server.door,
            server,
            open_channel(server.address, root_certificates),
            (("authorization", f"Api-Key {twins.key}"),),
            (("authorization", f"Api-Key {twins.other_key}"),),
        )
        built.append(harness)
        return harness

    yield make
    for harness in built:
        harness.channel.close()
        harness.server.stop(0)


@pytest.fixture
def grpc_harness(make_grpc: Callable[..., GrpcHarness]) -> GrpcHarness:
    return make_grpc()
