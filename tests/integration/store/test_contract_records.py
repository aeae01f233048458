"""The OperationStore contract, on every implementation (in memory, SQLite, PostgreSQL): what is stored comes
back as it was, results and inline audio included, until it is deleted or purged; state counts add it up."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone

import pytest

from asyncstt.errors import ErrorInfo
from asyncstt.operation import ApiVersion, OperationState, Progress
from asyncstt.recognition import Priority, Transcript
from asyncstt.store.base import OperationStore
from tests.factories import at, make_operation, make_transcript
from tests.integration.store.contract import CANCELLED

pytestmark = pytest.mark.integration


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
