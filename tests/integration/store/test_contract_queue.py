"""The OperationStore contract, on every implementation (in memory, SQLite, PostgreSQL): the queue. Claims take
standard before deferred and oldest first, with leases that only their owner renews or hands back, and that
another claims once they run out."""

from __future__ import annotations

from datetime import datetime

import pytest

from asyncstt.errors import ErrorInfo
from asyncstt.operation import OperationState, Progress
from asyncstt.recognition import Transcript
from asyncstt.store.base import OperationStore
from tests.factories import at, make_operation

pytestmark = pytest.mark.integration


def _claim_all(store: OperationStore, owner: str, now: datetime) -> list[str]:
    claimed = []
    while (claim := store.claim(owner, 30, now)) is not None:
        claimed.append(claim.operation.id)
    return claimed


# claim


def test_claim_on_an_empty_store_finds_nothing(store: OperationStore) -> None:
    assert store.claim("w1", 30, at(0)) is None


def test_claim_leases_the_operation(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    claim = store.claim("w1", 30, at(10))
    assert claim is not None
    assert not claim.took_over
    claimed = claim.operation
    assert claimed.id == "op1"
    assert claimed.state is OperationState.RUNNING
    assert claimed.lease_owner == "w1"
    assert claimed.lease_expires_at == at(40)
    assert claimed.attempts == 1
    assert claimed.modified_at == at(10)
    assert store.get("op1") == claimed
    assert store.claim("w2", 30, at(11)) is None


def test_standard_goes_before_deferred_then_oldest_first(store: OperationStore) -> None:
    store.create(make_operation("deferred-old", created_at=at(0), model="deferred-general"))
    store.create(make_operation("standard-new", created_at=at(3)))
    store.create(make_operation("deferred-new", created_at=at(4), model="deferred-general"))
    store.create(make_operation("standard-old", created_at=at(1)))
    store.create(make_operation("standard-tie-b", created_at=at(2)))
    store.create(make_operation("standard-tie-a", created_at=at(2)))
    assert _claim_all(store, "w1", at(10)) == [
        "standard-old",
        "standard-tie-a",
        "standard-tie-b",
        "standard-new",
        "deferred-old",
        "deferred-new",
    ]


def test_an_expired_lease_is_claimed_again(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    assert store.claim("w2", 30, at(29)) is None
    # The lease ends at exactly 30 s: from then on it is free.
    claim = store.claim("w2", 30, at(30))
    assert claim is not None
    assert claim.took_over
    reclaimed = claim.operation
    assert (reclaimed.lease_owner, reclaimed.attempts, reclaimed.lease_expires_at) == (
        "w2",
        2,
        at(60),
    )
    assert not store.renew("op1", "w1", 30, at(31))
    assert not store.set_progress("op1", "w1", Progress(1, 2, "recognising"), at(31))
    assert not store.finish("op1", "w1", at(31), result=Transcript())
    assert store.finish("op1", "w2", at(32), result=Transcript())


def test_an_expired_operation_keeps_its_place_in_line(store: OperationStore) -> None:
    store.create(make_operation("old", created_at=at(0)))
    store.claim("w1", 5, at(1))
    store.create(make_operation("new", created_at=at(2)))
    assert _claim_all(store, "w2", at(100)) == ["old", "new"]


def test_finished_operations_are_never_claimed(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    store.finish("op1", "w1", at(1), error=ErrorInfo(13, "engine failed"))
    assert store.claim("w2", 30, at(1000)) is None


# renew / set_progress


def test_renew_extends_the_lease_of_its_owner_only(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    assert not store.renew("op1", "w2", 30, at(20))
    assert store.renew("op1", "w1", 30, at(20))
    renewed = store.get("op1")
    assert renewed is not None
    assert renewed.lease_expires_at == at(50)
    assert store.claim("w2", 30, at(40)) is None
    assert not store.renew("missing", "w1", 30, at(20))


def test_renew_of_a_queued_or_finished_operation_fails(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    assert not store.renew("op1", "w1", 30, at(0))
    store.claim("w1", 30, at(0))
    store.finish("op1", "w1", at(1), result=Transcript())
    assert not store.renew("op1", "w1", 30, at(2))


def test_progress_is_recorded_for_the_lease_holder(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    assert store.set_progress("op1", "w1", Progress(5.5, 22.0, "recognising"), at(3))
    assert not store.set_progress("op1", "w2", Progress(9, 9, "assembling"), at(4))
    running = store.get("op1")
    assert running is not None
    assert running.progress == Progress(5.5, 22.0, "recognising")
    assert running.modified_at == at(3)
    assert not store.set_progress("missing", "w1", Progress(), at(3))


# release


def test_release_puts_a_running_operation_back_in_the_queue(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    assert store.claim("me", 30, at(0)) is not None
    assert store.set_progress("op1", "me", Progress(5.0, 10.0, "recognising"), at(1))
    assert not store.release("op1", "someone-else", at(2))
    assert store.release("op1", "me", at(3))
    released = store.get("op1")
    assert released is not None
    assert released.state is OperationState.QUEUED
    assert (released.lease_owner, released.lease_expires_at) == (None, None)
    assert released.progress == Progress()
    assert released.modified_at == at(3)
    assert not store.release("op1", "me", at(4))
    again = store.claim("other", 30, at(4))
    assert again is not None
    assert not again.took_over
    assert (again.operation.id, again.operation.attempts) == ("op1", 2)


# priority aging


def test_a_deferred_operation_ranks_as_standard_once_it_has_waited_the_deadline(
    store: OperationStore,
) -> None:
    store.create(make_operation("deferred-aged", created_at=at(0), model="deferred-general"))
    store.create(make_operation("deferred-young", created_at=at(1), model="deferred-general"))
    store.create(make_operation("standard-a", created_at=at(-5)))
    store.create(make_operation("standard-b", created_at=at(40)))
    # Claimed at 100 with a 100 s deadline: only the operation created at 0 has waited long enough.
    claimed = []
    while (claim := store.claim("w1", 30, at(100), deferred_deadline_seconds=100)) is not None:
        claimed.append(claim.operation.id)
    assert claimed == ["standard-a", "deferred-aged", "standard-b", "deferred-young"]


def test_without_a_deadline_deferred_operations_wait_for_standard_ones(
    store: OperationStore,
) -> None:
    store.create(make_operation("deferred", created_at=at(0), model="deferred-general"))
    store.create(make_operation("standard", created_at=at(10**6)))
    assert _claim_all(store, "w1", at(10**7)) == ["standard", "deferred"]
