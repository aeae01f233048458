"""Operations put straight into a harness's store at each stage, for tests of what either door answers about
them: queued by CALLER in FOLDER, claimed a second later, finished two seconds after that."""

from __future__ import annotations

from typing import Protocol

from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec, Transcript
from asyncstt.service.operations import OperationService
from asyncstt.store.memory import InMemoryStore
from tests.factories import ManualClock, make_transcript
from tests.support.contract_cases import CALLER, URI


class World(Protocol):
    """What the REST and gRPC harnesses both hold."""

    @property
    def service(self) -> OperationService: ...

    @property
    def store(self) -> InMemoryStore: ...

    @property
    def clock(self) -> ManualClock: ...


def queued(world: World, api: ApiVersion = ApiVersion.V3) -> Operation:
    """An en-US recognition of URI, submitted through the service at the world's clock."""
    return world.service.submit(
        CALLER, RecognitionSpec(language="en-US"), uri=URI, content=None, api=api
    )


def claimed(world: World, api: ApiVersion = ApiVersion.V3) -> Operation:
    operation = queued(world, api)
    world.clock.advance(1)
    assert world.store.claim("worker", 30, world.clock()) is not None
    return operation


def finished(
    world: World, transcript: Transcript | None = None, api: ApiVersion = ApiVersion.V3
) -> Operation:
    """Succeeded with `transcript`; by default four utterances of three words, on two channels in turn."""
    operation = claimed(world, api)
    world.clock.advance(2)
    result = make_transcript(3, 4) if transcript is None else transcript
    assert world.store.finish(operation.id, "worker", world.clock(), result=result)
    return operation
