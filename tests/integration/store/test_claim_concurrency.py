"""Concurrent claims never hand out the same operation twice, and concurrent submits with one idempotency key
make one operation: threads and processes racing on one database."""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
import time
from multiprocessing.synchronize import Barrier as ProcessBarrier
from queue import Empty

import pytest

from asyncstt.operation import Idempotency, Operation, OperationState
from asyncstt.store.sql import SqlStore
from tests.factories import at, make_operation

pytestmark = pytest.mark.integration

OPERATIONS = 50


def _queue_operations(url: str) -> SqlStore:
    store = SqlStore(url)
    for index in range(OPERATIONS):
        model = "deferred-general" if index % 3 == 0 else "general"
        store.create(make_operation(f"op{index:02}", created_at=at(index % 7), model=model))
    return store


def _claim_until_empty(store: SqlStore, owner: str, pause: float = 0.0) -> list[str]:
    claimed = []
    while (claim := store.claim(owner, 300, at(100))) is not None:
        claimed.append(claim.operation.id)
        time.sleep(pause)
    return claimed


def _assert_claimed_once(store: SqlStore, claims: list[list[str]]) -> None:
    first, second = claims
    assert not set(first) & set(second)
    assert sorted(first + second) == [f"op{index:02}" for index in range(OPERATIONS)]
    for operation_id in first + second:
        operation = store.get(operation_id)
        assert operation is not None
        assert (operation.state, operation.attempts) == (OperationState.RUNNING, 1)


def test_two_threads_never_claim_the_same_operation(store_url: str) -> None:
    store = _queue_operations(store_url)
    start = threading.Barrier(2)
    claims: list[list[str]] = [[], []]

    def work(slot: int) -> None:
        start.wait()
        claims[slot] = _claim_until_empty(store, f"thread-{slot}")

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    _assert_claimed_once(store, claims)
    store.close()


def _claim_in_process(
    url: str, owner: str, start: ProcessBarrier, out: multiprocessing.Queue[list[str]]
) -> None:
    store = SqlStore(url, migrate=False)
    start.wait()
    # A short pause between claims lets both processes take part even when one starts late on a busy machine.
    out.put(_claim_until_empty(store, owner, pause=0.005))
    store.close()


def test_two_processes_never_claim_the_same_operation(store_url: str) -> None:
    store = _queue_operations(store_url)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    out: multiprocessing.Queue[list[str]] = context.Queue()
    processes = [
        context.Process(target=_claim_in_process, args=(store_url, f"process-{slot}", start, out))
        for slot in range(2)
    ]
    for process in processes:
        process.start()
    try:
        claims = [out.get(timeout=60), out.get(timeout=60)]
    except Empty:
        pytest.fail("a claiming process gave no answer within 60 s")
    finally:
        for process in processes:
            process.join(timeout=30)
    assert [process.exitcode for process in processes] == [0, 0]
    # Both really took part: each claimed something.
    assert all(claims)
    _assert_claimed_once(store, claims)
    store.close()


def test_threads_submitting_one_idempotency_key_make_one_operation(store_url: str) -> None:
    stores = [SqlStore(store_url), SqlStore(store_url, migrate=False)]
    key = Idempotency("retried-submit", hashlib.sha256(b"request").hexdigest())
    rounds = 10
    start = threading.Barrier(2)
    answers: list[list[Operation]] = [[], []]

    def submit(slot: int) -> None:
        for index in range(rounds):
            start.wait()
            operation = make_operation(f"op{index}-{slot}", created_at=at(index))
            # A new key per round, so that every round is a fresh race.
            round_key = Idempotency(f"{key.key}-{index}", key.request_hash)
            answers[slot].append(stores[slot].create(operation, idempotency=round_key))

    threads = [threading.Thread(target=submit, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    for index, (first, second) in enumerate(zip(*answers, strict=True)):
        assert first.id == second.id
        assert first.id in (f"op{index}-0", f"op{index}-1")
        loser = f"op{index}-1" if first.id.endswith("-0") else f"op{index}-0"
        assert stores[0].get(loser) is None
    assert sum(stores[0].state_counts().values()) == rounds
    for store in stores:
        store.close()
