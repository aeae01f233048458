"""The OperationStore contract, on every implementation (in memory, SQLite, PostgreSQL): a queued operation's
position is 1 + how many operations a claim would take before it, in the claim's own order."""

from __future__ import annotations

from datetime import datetime

import pytest

from asyncstt.operation import Operation
from asyncstt.recognition import Transcript
from asyncstt.store.base import OperationStore
from tests.factories import at, make_operation

pytestmark = pytest.mark.integration

DEFERRED = "deferred-general"


def _position(
    store: OperationStore, operation_id: str, now: datetime, deadline: float | None = None
) -> int:
    operation = store.get(operation_id)
    assert operation is not None
    return store.queue_position(operation, now, deadline)


def _created(store: OperationStore, *operations: Operation) -> list[str]:
    return [store.create(operation).id for operation in operations]


def test_an_operation_alone_is_first(store: OperationStore) -> None:
    _created(store, make_operation("only"))
    assert _position(store, "only", at(5)) == 1


def test_standard_goes_before_deferred_then_oldest_first(store: OperationStore) -> None:
    _created(
        store,
        make_operation("deferred-old", created_at=at(0), model=DEFERRED),
        make_operation("standard-new", created_at=at(3)),
        make_operation("deferred-new", created_at=at(4), model=DEFERRED),
        make_operation("standard-old", created_at=at(1)),
        make_operation("standard-tie-b", created_at=at(2)),
        make_operation("standard-tie-a", created_at=at(2)),
    )
    positions = {
        operation_id: _position(store, operation_id, at(10))
        for operation_id in (
            "standard-old",
            "standard-tie-a",
            "standard-tie-b",
            "standard-new",
            "deferred-old",
            "deferred-new",
        )
    }
    assert list(positions.values()) == [1, 2, 3, 4, 5, 6]


def test_a_deferred_operation_past_its_deadline_ranks_as_standard(store: OperationStore) -> None:
    _created(
        store,
        make_operation("deferred-aged", created_at=at(0), model=DEFERRED),
        make_operation("standard", created_at=at(50)),
        make_operation("deferred-young", created_at=at(60), model=DEFERRED),
    )
    # At 100 s with a 100 s deadline only the first deferred operation has aged.
    assert [
        _position(store, operation_id, at(100), 100)
        for operation_id in ("deferred-aged", "standard", "deferred-young")
    ] == [1, 2, 3]
    assert [
        _position(store, operation_id, at(100))
        for operation_id in ("deferred-aged", "standard", "deferred-young")
    ] == [2, 1, 3]


@pytest.mark.parametrize(("spread", "deadline"), [(11, 15), (11, None), (4, 18), (4, 1000)])
def test_positions_follow_the_order_claims_take(
    store: OperationStore, spread: int, deadline: float | None
) -> None:
    # A small spread makes many operations share a creation time, so the id decides among them.
    ids = _created(
        store,
        *(
            make_operation(
                f"op{i:02d}", created_at=at(i * 7 % spread), model=DEFERRED if i % 3 else "general"
            )
            for i in range(12)
        ),
    )
    positions = {
        operation_id: _position(store, operation_id, at(20), deadline) for operation_id in ids
    }
    assert sorted(positions.values()) == list(range(1, 13))
    claimed = []
    while (claim := store.claim("w1", 30, at(20), deadline)) is not None:
        claimed.append(claim.operation.id)
    assert claimed == sorted(ids, key=positions.__getitem__)


def test_running_and_finished_operations_are_not_ahead(store: OperationStore) -> None:
    _created(
        store,
        make_operation("running", created_at=at(0)),
        make_operation("finished", created_at=at(1)),
        make_operation("waiting", created_at=at(2)),
    )
    assert _position(store, "waiting", at(3)) == 3
    assert store.claim("w1", 30, at(3)) is not None
    assert store.finish("finished", None, at(3), result=Transcript())
    assert _position(store, "waiting", at(4)) == 1


def test_a_running_operation_whose_lease_ran_out_is_ahead_again(store: OperationStore) -> None:
    _created(
        store,
        make_operation("abandoned", created_at=at(0)),
        make_operation("waiting", created_at=at(1)),
    )
    assert store.claim("w1", 30, at(2)) is not None
    assert _position(store, "waiting", at(31)) == 1
    # The lease ran out at 32 s: a claim would take the abandoned operation first.
    assert _position(store, "waiting", at(32)) == 2


def test_a_position_moves_up_as_the_queue_drains(store: OperationStore) -> None:
    _created(store, *(make_operation(f"op{i}", created_at=at(i)) for i in range(4)))
    positions = []
    for _ in range(4):
        positions.append(_position(store, "op3", at(10)))
        assert store.claim("w1", 30, at(10)) is not None
    assert positions == [4, 3, 2, 1]
