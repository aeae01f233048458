"""The OperationStore contract, run against every implementation: in memory, SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from asyncstt.errors import ErrorInfo, InvalidArgument
from asyncstt.operation import ApiVersion, Idempotency, OperationState, Progress
from asyncstt.recognition import Priority, Transcript
from asyncstt.store.base import OperationStore
from asyncstt.store.memory import InMemoryStore
from asyncstt.store.sql import SqlStore
from tests.factories import at, make_operation, make_transcript
from tests.support.postgres import STORE_URL_FIXTURES

pytestmark = pytest.mark.integration

CANCELLED = ErrorInfo(code=1, message="cancelled")


@pytest.fixture(params=["memory", *STORE_URL_FIXTURES])
def store(request: pytest.FixtureRequest) -> Iterator[OperationStore]:
    implementation: OperationStore = (
        InMemoryStore()
        if request.param == "memory"
        else SqlStore(request.getfixturevalue(STORE_URL_FIXTURES[request.param]))
    )
    yield implementation
    implementation.close()


def _claim_all(store: OperationStore, owner: str, now: datetime) -> list[str]:
    claimed = []
    while (claim := store.claim(owner, 30, now)) is not None:
        claimed.append(claim.operation.id)
    return claimed


# create / get


def test_get_returns_what_was_created(store: OperationStore) -> None:
    operation = make_operation("op1", api=ApiVersion.V3, model="deferred-general")
    store.create(operation)
    assert store.get("op1") == operation
    assert store.get("missing") is None


def test_every_field_survives_a_round_trip(store: OperationStore) -> None:
    operation = make_operation("op1").evolve(
        state=OperationState.FAILED,
        progress=Progress(12.5, 30.25, "recognising"),
        error=ErrorInfo(code=3, message="файл не похож на аудио"),
        done_at=at(60),
        modified_at=at(60),
        cancel_requested=True,
        attempts=3,
    )
    store.create(operation)
    assert store.get("op1") == operation


def test_creating_an_existing_id_is_refused(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    with pytest.raises(ValueError, match="op1"):
        store.create(make_operation("op1", created_at=at(5)))
    assert store.get("op1") == make_operation("op1")


def test_instants_keep_their_value_whatever_the_offset(store: OperationStore) -> None:
    moscow = timezone(timedelta(hours=3))
    created = datetime(2026, 3, 1, 15, 0, 0, 123456, tzinfo=moscow)
    store.create(make_operation("op1", created_at=created))
    stored = store.get("op1")
    assert stored is not None
    assert stored.created_at == datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


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


# results


def test_unicode_results_round_trip(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    transcript = make_transcript(4, 3, text='ёжик «в» тумане 😀 東京 \\ " \x00 end')
    store.finish("op1", "w1", at(1), result=transcript)
    done = store.get("op1")
    assert done is not None
    assert done.result == transcript


def test_a_four_hour_transcript_round_trips(store: OperationStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    transcript = make_transcript(
        words_per_utterance=20, utterances=2000, text="ask not what your country"
    )
    store.finish("op1", "w1", at(1), result=transcript)
    done = store.get("op1")
    assert done is not None
    assert done.result == transcript
    assert sum(len(u.words) for u in done.result.utterances) == 40_000


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


# delete / purge


def test_delete_removes_the_operation_and_its_audio(store: OperationStore) -> None:
    store.create(make_operation("op1"), inline_audio=b"OggS audio")
    store.create(make_operation("op2"), inline_audio=b"other")
    assert store.delete("op1")
    assert store.get("op1") is None
    assert store.inline_audio("op1") is None
    assert not store.delete("op1")
    assert store.inline_audio("op2") == b"other"


def test_purge_removes_operations_that_ended_before_the_cutoff(store: OperationStore) -> None:
    for index in range(4):
        store.create(make_operation(f"op{index}", created_at=at(index)))
    store.create(make_operation("queued", created_at=at(10)), inline_audio=b"kept")
    for index in range(3):
        store.claim("w1", 30, at(0))
        store.finish(f"op{index}", "w1", at(100 + index), result=Transcript())
    store.claim("w1", 30, at(0))

    assert sorted(store.purge_finished_before(at(101))) == ["op0"]
    # `before` is strict: an operation that ended at the cutoff stays.
    assert sorted(store.purge_finished_before(at(102))) == ["op1"]
    assert store.purge_finished_before(at(102)) == []
    assert sorted(store.purge_finished_before(at(10_000))) == ["op2"]
    assert [store.get(f"op{index}") is None for index in range(4)] == [True, True, True, False]
    assert store.inline_audio("queued") == b"kept"


# inline audio


def test_inline_audio_lives_until_the_operation_ends(store: OperationStore) -> None:
    audio = os.urandom(1 << 20) + bytes(range(256))
    store.create(make_operation("op1"), inline_audio=audio)
    store.create(make_operation("op2", created_at=at(1)))
    assert store.inline_audio("op1") == audio
    assert store.inline_audio("op2") is None
    assert store.inline_audio("missing") is None
    store.claim("w1", 30, at(0))
    assert store.inline_audio("op1") == audio
    assert not store.finish("op1", "w2", at(1), result=Transcript())
    assert store.inline_audio("op1") == audio
    assert store.finish("op1", "w1", at(1), result=Transcript())
    assert store.inline_audio("op1") is None


def test_cancelling_a_queued_operation_drops_its_audio(store: OperationStore) -> None:
    store.create(make_operation("op1"), inline_audio=b"RIFF....WAVE")
    assert store.finish("op1", None, at(1), error=CANCELLED)
    assert store.inline_audio("op1") is None


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


# idempotency keys


def _key(key: str = "key-1", body: bytes = b"body") -> Idempotency:
    return Idempotency(key, hashlib.sha256(body).hexdigest())


def test_the_same_key_and_request_return_the_first_operation(store: OperationStore) -> None:
    first = make_operation("op1")
    assert store.create(first, inline_audio=b"audio", idempotency=_key()) == first
    again = store.create(
        make_operation("op2", created_at=at(5)), inline_audio=b"audio", idempotency=_key()
    )
    assert again == first
    assert store.get("op2") is None
    assert store.inline_audio("op2") is None
    # Even once the first one is done, it is the answer.
    store.claim("w1", 30, at(6))
    store.finish("op1", "w1", at(7), result=Transcript())
    done = store.create(make_operation("op3", created_at=at(8)), idempotency=_key())
    assert (done.id, done.state) == ("op1", OperationState.SUCCEEDED)
    assert store.get("op3") is None


def test_the_same_key_with_another_request_is_refused(store: OperationStore) -> None:
    store.create(make_operation("op1"), idempotency=_key(body=b"one"))
    with pytest.raises(InvalidArgument, match="Idempotency-Key key-1 was used with a different"):
        store.create(make_operation("op2"), idempotency=_key(body=b"two"))
    assert store.get("op2") is None


def test_keys_belong_to_a_folder(store: OperationStore) -> None:
    store.create(make_operation("op1"), idempotency=_key())
    other = make_operation("op2", folder_id="b1gother")
    assert store.create(other, idempotency=_key()) == other
    assert store.create(make_operation("op3"), idempotency=_key("key-2")).id == "op3"


def test_an_expired_key_or_a_deleted_operation_frees_the_key(store: OperationStore) -> None:
    store.create(make_operation("op1", created_at=at(0)), idempotency=_key())
    # Remembered at 0; a key is forgotten when remembered before the cutoff.
    held = store.create(
        make_operation("op2", created_at=at(50)), idempotency=_key(), keys_expire_before=at(0)
    )
    assert held.id == "op1"
    fresh = store.create(
        make_operation("op3", created_at=at(60)),
        idempotency=_key(body=b"another body is fine now"),
        keys_expire_before=at(1),
    )
    assert fresh.id == "op3"
    assert (
        store.create(
            make_operation("op4", created_at=at(61)),
            idempotency=_key(body=b"another body is fine now"),
        ).id
        == "op3"
    )
    store.delete("op3")
    assert store.create(make_operation("op5", created_at=at(62)), idempotency=_key()).id == "op5"


def test_forgetting_keys_before_a_cutoff(store: OperationStore) -> None:
    for index in range(3):
        store.create(
            make_operation(f"op{index}", created_at=at(index)), idempotency=_key(str(index))
        )
    assert store.forget_idempotency_keys_before(at(2)) == 2
    assert store.forget_idempotency_keys_before(at(2)) == 0
    assert store.create(make_operation("op9", created_at=at(9)), idempotency=_key("0")).id == "op9"
    assert store.create(make_operation("op8", created_at=at(9)), idempotency=_key("2")).id == "op2"


# state counts


def test_state_counts_by_state_and_priority(store: OperationStore) -> None:
    assert store.state_counts() == {}
    for index in range(3):
        store.create(make_operation(f"std{index}", created_at=at(index)))
    for index in range(2):
        store.create(
            make_operation(f"def{index}", created_at=at(10 + index), model="deferred-general")
        )
    store.claim("w1", 30, at(20))
    store.claim("w1", 30, at(20))
    store.finish("std0", "w1", at(21), result=Transcript())
    assert store.state_counts() == {
        (OperationState.SUCCEEDED, Priority.STANDARD): 1,
        (OperationState.RUNNING, Priority.STANDARD): 1,
        (OperationState.QUEUED, Priority.STANDARD): 1,
        (OperationState.QUEUED, Priority.DEFERRED): 2,
    }
