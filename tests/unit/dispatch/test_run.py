"""One operation's run, on the calling thread: what it writes for each way a run can end."""

from __future__ import annotations

import threading
from datetime import timedelta

from asyncstt.errors import InvalidArgument
from asyncstt.operation import OperationState, Progress
from asyncstt.pipeline.plan import SliceSpec
from asyncstt.pipeline.task import SliceResult
from tests.factories import make_utterance
from tests.unit.dispatch.conftest import AUDIO, Kit, wait_until


def saved_result(index: int, start: float, end: float, word: str) -> bytes:
    """A slice result as an earlier attempt saved it."""
    utterance = make_utterance(0, [(word, start, end)], word)
    return SliceResult(SliceSpec(index, 0, start, end), (utterance,), end - start).to_bytes()


def test_the_slices_are_recognised_and_the_result_assembled_in_order(kit: Kit) -> None:
    operation = kit.queue()
    kit.dispatcher.process(kit.claim())
    done = kit.get(operation.id)
    assert done.state is OperationState.SUCCEEDED, done.error
    assert kit.words(operation.id) == ["slice0", "slice1", "slice2"]
    assert done.result is not None
    assert (done.result.channels, done.result.duration_seconds) == (1, 30.0)
    assert [(u.start, u.end) for u in done.result.utterances] == [(0, 10), (10, 20), (20, 30)]
    # The probe read the inline audio the fetcher wrote; every slice went to the executor, standard priority.
    assert kit.probed == [AUDIO]
    assert kit.executor.submitted == [(operation.id, index, 100) for index in range(3)]
    assert not (kit.settings.cache_dir / operation.id).exists()
    assert kit.sample("asyncstt_operation_duration_seconds_count", outcome="succeeded") == 1
    assert kit.sample("asyncstt_audio_processed_seconds_total") == 30


def test_progress_is_written_at_every_stage_and_as_slices_finish(kit: Kit) -> None:
    operation = kit.queue()
    kit.executor.hold_from = 1
    claimed = kit.claim()
    run = threading.Thread(target=kit.dispatcher.process, args=(claimed,))
    run.start()
    try:
        wait_until(lambda: kit.get(operation.id).progress == Progress(10, 30, "recognising"))
    finally:
        kit.executor.gate.set()
        run.join(5)
    assert kit.get(operation.id).state is OperationState.SUCCEEDED
    stages = [p.stage for p in kit.store.progress]
    assert list(dict.fromkeys(stages)) == ["fetching", "probing", "recognising", "assembling"]
    recognising = [p for p in kit.store.progress if p.stage == "recognising"]
    assert recognising[0] == Progress(0, 30, "recognising")
    assert recognising[-1] == Progress(30, 30, "recognising")
    processed = [p.processed_seconds for p in recognising]
    assert processed == sorted(processed)
    assert kit.store.progress[-1] == Progress(30, 30, "assembling")


def test_a_cancel_request_stops_the_run_as_cancelled(kit: Kit) -> None:
    operation = kit.queue()
    kit.executor.hold_from = 2

    def cancel() -> None:
        # Once the run is waiting for its slices (it has counted slice 0), so that it sees the cancel at its
        # next check.
        wait_until(lambda: Progress(10, 30, "recognising") in kit.store.progress)
        kit.store.request_cancel(operation.id, kit.clock())
        kit.ticks.advance(1.0)

    kit.on_slice(1, cancel)
    kit.dispatcher.process(kit.claim())
    done = kit.get(operation.id)
    assert done.state is OperationState.FAILED
    assert done.error is not None
    assert (done.error.code, done.error.message) == (1, "cancelled")
    assert done.result is None
    # It did not wait for slice 2, still held back.
    assert kit.executor.ran == [0, 1]
    assert kit.sample("asyncstt_operation_duration_seconds_count", outcome="cancelled") == 1


def test_a_slice_that_fails_with_a_service_error_fails_the_operation_with_it(kit: Kit) -> None:
    operation = kit.queue()

    def refuse() -> None:
        raise InvalidArgument("the second slice is not audio")

    kit.on_slice(1, refuse)
    kit.dispatcher.process(kit.claim())
    done = kit.get(operation.id)
    assert done.state is OperationState.FAILED
    assert done.error is not None
    assert (done.error.code, done.error.message) == (3, "the second slice is not audio")
    assert done.result is None
    assert kit.sample("asyncstt_errors_total", code="3", where="operation") == 1


def test_an_unexpected_exception_fails_the_operation_as_internal(kit: Kit) -> None:
    operation = kit.queue()

    def break_down() -> None:
        raise RuntimeError("the engine fell over")

    kit.on_slice(2, break_down)
    kit.dispatcher.process(kit.claim())
    done = kit.get(operation.id)
    assert done.state is OperationState.FAILED
    assert done.error is not None
    assert (done.error.code, done.error.message) == (
        13,
        "recognition failed: RuntimeError: the engine fell over",
    )
    assert kit.sample("asyncstt_errors_total", code="13", where="operation") == 1


def test_inline_audio_missing_from_the_store_fails_the_operation_as_internal(kit: Kit) -> None:
    operation = kit.queue(audio=None)
    kit.dispatcher.process(kit.claim())
    done = kit.get(operation.id)
    assert done.state is OperationState.FAILED
    assert done.error is not None
    assert (done.error.code, done.error.message) == (
        13,
        f"the inline audio of operation {operation.id} is missing from the store",
    )
    assert kit.probed == []
    assert kit.executor.submitted == []


def test_slices_an_earlier_attempt_saved_under_the_same_plan_are_not_recognised_again(
    kit: Kit,
) -> None:
    operation = kit.queue()
    earlier = kit.store.claim("an-earlier-dispatcher", 30, kit.clock())
    assert earlier is not None
    plan = kit.plan(operation)
    for index, (start, end) in enumerate([(0.0, 10.0), (10.0, 20.0)]):
        data = saved_result(index, start, end, f"saved{index}")
        assert kit.store.save_slice(
            operation.id, "an-earlier-dispatcher", plan, index, data, kit.clock()
        )
    assert kit.store.release(operation.id, "an-earlier-dispatcher", kit.clock())
    claimed = kit.claim()
    assert claimed.attempts == 2
    kit.dispatcher.process(claimed)
    assert kit.get(operation.id).state is OperationState.SUCCEEDED
    assert kit.executor.submitted == [(operation.id, 2, 100)]
    assert kit.words(operation.id) == ["saved0", "saved1", "slice2"]
    # Progress starts from what was saved.
    assert kit.store.progress[2] == Progress(20, 30, "recognising")


def test_slices_saved_under_another_plan_are_recognised_again(kit: Kit) -> None:
    operation = kit.queue()
    assert kit.store.claim("an-earlier-dispatcher", 30, kit.clock()) is not None
    data = saved_result(0, 0.0, 10.0, "stale")
    assert kit.store.save_slice(
        operation.id, "an-earlier-dispatcher", "another-plan", 0, data, kit.clock()
    )
    assert kit.store.release(operation.id, "an-earlier-dispatcher", kit.clock())
    kit.dispatcher.process(kit.claim())
    assert [index for _, index, _ in kit.executor.submitted] == [0, 1, 2]
    assert kit.words(operation.id) == ["slice0", "slice1", "slice2"]


def test_a_lost_lease_leaves_the_operation_to_its_new_holder_untouched(kit: Kit) -> None:
    operation = kit.queue()
    plan = kit.plan(operation)
    at_takeover: list[Progress] = []

    def take_over() -> None:
        # The lease ran out while slice 1 was recognised, and another dispatcher claimed the operation.
        wait_until(lambda: 0 in kit.store.saved_slices(operation.id, plan))
        lease = timedelta(seconds=kit.settings.execution.lease_seconds + 1)
        assert kit.store.claim("another-dispatcher", 30, kit.clock() + lease) is not None
        at_takeover.append(kit.get(operation.id).progress)

    kit.on_slice(1, take_over)
    kit.dispatcher.process(kit.claim())
    after = kit.get(operation.id)
    assert (after.state, after.lease_owner) == (OperationState.RUNNING, "another-dispatcher")
    assert (after.result, after.error) == (None, None)
    assert after.progress == at_takeover[0]
    assert set(kit.store.saved_slices(operation.id, plan)) == {0}
    assert kit.sample("asyncstt_lease_expiries_total") == 1
    assert not (kit.settings.cache_dir / operation.id).exists()
