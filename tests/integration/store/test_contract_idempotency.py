"""The OperationStore contract, on every implementation (in memory, SQLite, PostgreSQL): an Idempotency-Key
brings back the first operation of its folder for the same request, until it expires."""

from __future__ import annotations

import hashlib

import pytest

from asyncstt.errors import InvalidArgument
from asyncstt.operation import Idempotency, OperationState
from asyncstt.recognition import Transcript
from asyncstt.store.base import OperationStore
from tests.factories import at, make_operation

pytestmark = pytest.mark.integration


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
