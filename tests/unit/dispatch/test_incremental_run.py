"""A run hands each slice on as soon as the plan finds it, and counts the silence the plan leaves out."""

from __future__ import annotations

from collections.abc import Iterator

from asyncstt.operation import OperationState, Progress
from asyncstt.pipeline.plan import PlanItem, Silence, SliceSpec
from tests.unit.dispatch.conftest import Kit, wait_until


def test_slices_are_recognised_while_the_rest_of_the_file_is_planned(kit: Kit) -> None:
    operation = kit.queue()
    seen_by_the_planner: list[list[int]] = []

    def plan() -> Iterator[PlanItem]:
        yield SliceSpec(0, 0, 0.0, 10.0)
        # The first slice runs before the planner is asked for more.
        wait_until(lambda: kit.executor.ran == [0])
        seen_by_the_planner.append(list(kit.executor.ran))
        yield SliceSpec(1, 0, 10.0, 20.0)
        yield SliceSpec(2, 0, 20.0, None)

    kit.planner = plan
    kit.dispatcher.process(kit.claim())
    assert kit.get(operation.id).state is OperationState.SUCCEEDED
    assert seen_by_the_planner == [[0]]
    assert kit.words(operation.id) == ["slice0", "slice1", "slice2"]


def test_silence_left_out_counts_towards_progress_and_duration(kit: Kit) -> None:
    operation = kit.queue()
    kit.planner = lambda: [
        Silence(0, 0.0, 4.0),
        SliceSpec(0, 0, 4.0, 12.0),
        Silence(0, 12.0, 30.0),
    ]
    kit.dispatcher.process(kit.claim())
    done = kit.get(operation.id)
    assert done.state is OperationState.SUCCEEDED, done.error
    assert kit.words(operation.id) == ["slice0"]
    assert [index for _, index, _ in kit.executor.submitted] == [0]
    assert done.result is not None
    assert done.result.duration_seconds == 30.0
    assert kit.store.progress[-2:] == [
        Progress(30, 30, "recognising"),
        Progress(30, 30, "assembling"),
    ]


def test_a_file_that_never_speaks_finishes_without_a_slice(kit: Kit) -> None:
    operation = kit.queue()
    kit.planner = lambda: [Silence(0, 0.0, 30.0)]
    kit.dispatcher.process(kit.claim())
    done = kit.get(operation.id)
    assert done.state is OperationState.SUCCEEDED, done.error
    assert kit.executor.submitted == []
    assert done.result is not None
    assert (done.result.utterances, done.result.duration_seconds) == ((), 30.0)
