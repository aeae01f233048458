"""The OperationStore contract, on every implementation (in memory, SQLite, PostgreSQL): an operation ends once,
with a result or an error, and a cancel is a flag on a running one."""

from __future__ import annotations

import pytest

from asyncstt.errors import ErrorInfo
from asyncstt.operation import OperationState, Progress
from asyncstt.recognition import Transcript
from asyncstt.store.base import OperationStore
from tests.factories import at, make_operation, make_transcript
from tests.integration.store.contract import CANCELLED

pytestmark = pytest.mark.integration


# finish


def test_finish_with_a_result(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    store.set_progress("op1", "w1", Progress(3.0, 11.0, "recognising"), at(1))
    transcript = make_transcript(words_per_utterance=3, utterances=2)
    assert store.finish("op1", "w1", at(5), result=transcript)
    done = store.get("op1")
    assert done is not None
    assert done.state is OperationState.SUCCEEDED
    assert done.result == transcript
    assert done.error is None
    assert (done.done_at, done.modified_at) == (at(5), at(5))
    assert (done.lease_owner, done.lease_expires_at) == (None, None)
    assert done.progress == Progress(11.0, 11.0, "done")


def test_finish_with_an_error(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    error = ErrorInfo(code=5, message="object s3://bucket/op1.ogg not found")
    assert store.finish("op1", "w1", at(5), error=error)
    done = store.get("op1")
    assert done is not None
    assert (done.state, done.error, done.result) == (OperationState.FAILED, error, None)


def test_finish_happens_once(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    first = make_transcript(words_per_utterance=2, utterances=1)
    assert store.finish("op1", "w1", at(5), result=first)
    assert not store.finish("op1", "w1", at(6), result=Transcript())
    assert not store.finish("op1", None, at(6), error=CANCELLED)
    done = store.get("op1")
    assert done is not None
    assert (done.result, done.done_at) == (first, at(5))


def test_finish_without_owner_only_ends_a_queued_operation(store: OperationStore) -> None:
    store.create(make_operation("queued"))
    store.create(make_operation("running", created_at=at(-1)))
    store.claim("w1", 30, at(0))
    assert not store.finish("running", None, at(1), error=CANCELLED)
    assert store.finish("queued", None, at(1), error=CANCELLED)
    cancelled = store.get("queued")
    assert cancelled is not None
    assert (cancelled.state, cancelled.error, cancelled.done_at) == (
        OperationState.FAILED,
        CANCELLED,
        at(1),
    )
    assert not store.finish("missing", None, at(1), error=CANCELLED)


def test_finish_with_owner_needs_the_lease(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    assert not store.finish("op1", "w1", at(1), result=Transcript())
    store.claim("w1", 30, at(0))
    assert not store.finish("op1", "w2", at(1), result=Transcript())
    running = store.get("op1")
    assert running is not None
    assert running.state is OperationState.RUNNING


@pytest.mark.parametrize(
    "outcome", [{"result": Transcript(), "error": CANCELLED}, {}], ids=["both", "neither"]
)
def test_finish_takes_exactly_one_outcome(
    store: OperationStore, outcome: dict[str, Transcript | ErrorInfo]
) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    with pytest.raises(ValueError, match="exactly one"):
        store.finish("op1", "w1", at(1), **outcome)  # type: ignore[arg-type]
    running = store.get("op1")
    assert running is not None
    assert running.state is OperationState.RUNNING


# cancel


def test_cancel_flags_a_running_operation(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    flagged = store.request_cancel("op1", at(5))
    assert flagged is not None
    assert flagged.cancel_requested
    assert flagged.state is OperationState.RUNNING
    assert flagged.modified_at == at(5)
    assert store.get("op1") == flagged
    # Asking again changes nothing, not even modified_at.
    assert store.request_cancel("op1", at(6)) == flagged
    assert store.renew("op1", "w1", 30, at(7))
    renewed = store.get("op1")
    assert renewed is not None
    assert renewed.cancel_requested


def test_cancel_leaves_queued_and_finished_operations_as_they_are(store: OperationStore) -> None:
    store.create(make_operation("queued"))
    store.create(make_operation("done", created_at=at(-1)))
    store.claim("w1", 30, at(0))
    store.finish("done", "w1", at(1), result=Transcript())
    for operation_id in ("queued", "done"):
        before = store.get(operation_id)
        assert store.request_cancel(operation_id, at(2)) == before
        assert store.get(operation_id) == before
    assert store.request_cancel("missing", at(2)) is None
