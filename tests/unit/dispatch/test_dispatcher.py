"""The claim loop: operations are claimed and run, handed back on stop, and expired ones swept."""

from __future__ import annotations

from asyncstt.errors import Cancelled
from asyncstt.operation import OperationState, Progress
from tests.factories import make_operation
from tests.unit.dispatch.conftest import Kit, wait_until


def test_a_queued_operation_is_claimed_and_finished(kit: Kit) -> None:
    first = kit.queue("op1")
    second = kit.queue("op2")
    kit.dispatcher.start()
    for operation in (first, second):
        done = kit.done(operation.id)
        assert done.state is OperationState.SUCCEEDED, done.error
        assert (done.attempts, done.lease_owner) == (1, None)
        assert kit.words(operation.id) == ["slice0", "slice1", "slice2"]
    assert {op for op, _, _ in kit.executor.submitted} == {first.id, second.id}


def test_stopping_hands_a_running_operation_back_to_the_queue(kit: Kit) -> None:
    operation = kit.queue()
    kit.executor.hold_from = 1
    kit.dispatcher.start()
    wait_until(lambda: kit.get(operation.id).progress == Progress(10, 30, "recognising"))
    kit.dispatcher.stop()
    handed_back = kit.get(operation.id)
    assert handed_back.state is OperationState.QUEUED
    assert (handed_back.lease_owner, handed_back.result, handed_back.error) == (None, None, None)
    assert handed_back.progress == Progress()
    # Slice 0 stays saved for whoever claims the operation next.
    assert set(kit.store.saved_slices(operation.id, kit.plan(operation))) == {0}
    assert not (kit.settings.cache_dir / operation.id).exists()


def test_the_claim_loop_sweeps_expired_operations(kit: Kit) -> None:
    retention = kit.settings.limits.retention_seconds
    expired = make_operation("expired", created_at=kit.clock.now)
    kit.store.create(expired)
    assert kit.store.finish(expired.id, None, kit.clock(), error=Cancelled().to_info())
    kit.clock.advance(retention + 1)
    kit.dispatcher.start()
    wait_until(lambda: kit.store.get(expired.id) is None)
