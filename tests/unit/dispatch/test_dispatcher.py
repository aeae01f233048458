"""The claim loop: operations are claimed and run, handed back on stop, and expired ones swept; an idle loop
looks less often, and a submit wakes it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from asyncstt.errors import Cancelled
from asyncstt.operation import OperationState, Progress
from asyncstt.store.base import Claim
from tests.factories import make_operation
from tests.unit.dispatch.conftest import Kit, ProgressRecordingStore, wait_until


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


class _CountingClaims(ProgressRecordingStore):
    def __init__(self) -> None:
        super().__init__()
        self.claims = 0

    def claim(self, *args: Any, **kwargs: Any) -> Claim | None:
        self.claims += 1
        return super().claim(*args, **kwargs)


def test_an_idle_dispatcher_looks_less_and_less_often(tmp_path: Path) -> None:
    store = _CountingClaims()
    kit = Kit(tmp_path, store, poll_interval_seconds=0.01, idle_poll_interval_seconds=0.16)
    try:
        kit.dispatcher.start()
        time.sleep(1.0)
        # 0.01 s apart throughout would be about 100; doubling up to 0.16 s, about 10.
        assert 3 <= store.claims <= 20
    finally:
        kit.close()


def test_a_submit_wakes_a_dispatcher_in_its_longest_pause(tmp_path: Path) -> None:
    store = _CountingClaims()
    kit = Kit(tmp_path, store, poll_interval_seconds=1.0, idle_poll_interval_seconds=60.0)
    try:
        kit.dispatcher.start()
        # Empty claims at 0 and 1 s; the next would be at 3 s.
        wait_until(lambda: store.claims == 2)
        time.sleep(0.2)
        operation = kit.queue()
        kit.dispatcher.wake()
        wait_until(lambda: kit.get(operation.id).done, timeout=1.0)
    finally:
        kit.close()
