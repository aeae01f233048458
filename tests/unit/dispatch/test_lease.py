from __future__ import annotations

import time

from asyncstt.clock import utcnow
from asyncstt.dispatch.lease import LeaseKeeper
from asyncstt.store.memory import InMemoryStore
from tests.factories import make_operation


def test_the_keeper_renews_while_it_runs() -> None:
    store = InMemoryStore()
    store.create(make_operation("op1"))
    claim = store.claim("me", 0.3, utcnow())
    assert claim is not None
    claimed = claim.operation
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
    store.create(make_operation("op1"))
    store.claim("me", 0.3, utcnow())
    with LeaseKeeper(store, "op1", "me", 0.3, utcnow) as keeper:
        time.sleep(0.2)
        assert not keeper.lost.is_set()
        store.delete("op1")
        assert keeper.lost.wait(1)
