"""The OperationStore contract, on every implementation (in memory, SQLite, PostgreSQL): finished slices saved
by the lease holder outlive the lease and go with the operation."""

from __future__ import annotations

import pytest

from asyncstt.recognition import Transcript
from asyncstt.store.base import OperationStore
from tests.factories import at, make_operation
from tests.integration.store.contract import CANCELLED

pytestmark = pytest.mark.integration


# slice checkpoints


def test_slices_are_saved_only_by_the_lease_holder(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    assert not store.save_slice("op1", "w1", "plan-a", 0, b"queued", at(0))
    store.claim("w1", 30, at(0))
    assert store.save_slice("op1", "w1", "plan-a", 0, b"first", at(1))
    assert not store.save_slice("op1", "w2", "plan-a", 1, b"intruder", at(1))
    assert not store.save_slice("missing", "w1", "plan-a", 0, b"nowhere", at(1))
    assert store.saved_slices("op1", "plan-a") == {0: b"first"}


def test_saving_a_slice_twice_keeps_the_first_result(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    assert store.save_slice("op1", "w1", "plan-a", 2, b"first", at(1))
    assert store.save_slice("op1", "w1", "plan-a", 2, b"second", at(2))
    assert store.save_slice("op1", "w1", "plan-b", 2, b"other plan", at(2))
    assert store.saved_slices("op1", "plan-a") == {2: b"first"}
    assert store.saved_slices("op1", "plan-b") == {2: b"other plan"}
    assert store.saved_slices("op1", "plan-c") == {}


def test_saved_slices_survive_a_hand_back_and_an_expired_lease(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.create(make_operation("op2", created_at=at(1)))
    payload = bytes(range(256)) * 64
    store.claim("w1", 30, at(0))
    assert store.save_slice("op1", "w1", "p", 0, payload, at(1))
    assert store.release("op1", "w1", at(2))
    assert store.saved_slices("op1", "p") == {0: payload}
    store.claim("w2", 30, at(3))
    assert store.save_slice("op1", "w2", "p", 1, b"second", at(4))
    # w2 dies; w3 takes the operation over when the lease runs out and finds both slices.
    took_over = store.claim("w3", 30, at(100))
    assert took_over is not None
    assert (took_over.operation.id, took_over.took_over) == ("op1", True)
    assert not store.save_slice("op1", "w2", "p", 2, b"too late", at(101))
    assert store.saved_slices("op1", "p") == {0: payload, 1: b"second"}


def test_saved_slices_go_when_the_operation_ends_or_is_deleted(store: OperationStore) -> None:
    for operation_id in ("op1", "op2", "op3"):
        store.create(make_operation(operation_id))
        store.claim("w1", 30, at(0))
        assert store.save_slice(operation_id, "w1", "p", 0, b"slice", at(1))
    assert store.finish("op1", "w1", at(2), result=Transcript())
    assert store.finish("op2", "w1", at(2), error=CANCELLED)
    assert store.delete("op3")
    assert [store.saved_slices(op, "p") for op in ("op1", "op2", "op3")] == [{}, {}, {}]


def test_the_latest_saved_slices_are_those_of_the_plan_that_saved_last(
    store: OperationStore,
) -> None:
    store.create(make_operation("op1"))
    store.create(make_operation("op2", created_at=at(1)))
    assert store.latest_saved_slices("op1") == {}
    store.claim("w1", 30, at(0))
    assert store.save_slice("op1", "w1", "old", 0, b"old 0", at(1))
    assert store.save_slice("op1", "w1", "old", 1, b"old 1", at(2))
    assert store.latest_saved_slices("op1") == {0: b"old 0", 1: b"old 1"}
    # Taken over under another plan (the audio changed): its slices replace the old plan's once one is saved.
    store.claim("w2", 30, at(100))
    assert store.save_slice("op1", "w2", "new", 0, b"new 0", at(101))
    assert store.latest_saved_slices("op1") == {0: b"new 0"}
    assert store.latest_saved_slices("op2") == {}
