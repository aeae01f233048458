from __future__ import annotations

import time
from datetime import UTC, datetime

from asyncstt.clock import utcnow
from asyncstt.lease import LeaseKeeper
from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec
from asyncstt.store.memory import InMemoryStore


def queued(operation_id: str) -> Operation:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Operation(
        id=operation_id,
        folder_id="f",
        created_by="sa",
        api=ApiVersion.V2,
        spec=RecognitionSpec(language="en-US"),
        source_uri="inline:",
        created_at=now,
        modified_at=now,
    )


def test_the_keeper_renews_while_it_runs() -> None:
    store = InMemoryStore()
    store.create(queued("op1"))
    claimed = store.claim("me", 0.3, utcnow())
    assert claimed is not None
    assert claimed.lease_expires_at is not None
    with LeaseKeeper(store, "op1", "me", 0.3, utcnow) as keeper:
        time.sleep(0.5)
        assert not keeper.lost.is_set()
        current = store.get("op1")
        assert current is not None
        assert current.lease_expires_at is not None
        assert current.lease_expires_at > claimed.lease_expires_at
    assert store.claim("other", 0.3, utcnow()) is None


def test_the_keeper_reports_a_lost_lease() -> None:
    store = InMemoryStore()
    store.create(queued("op1"))
    store.claim("me", 0.3, utcnow())
    with LeaseKeeper(store, "op1", "me", 0.3, utcnow) as keeper:
        time.sleep(0.2)
        assert not keeper.lost.is_set()
        store.delete("op1")
        assert keeper.lost.wait(1)
