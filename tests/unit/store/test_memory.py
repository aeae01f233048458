"""InMemoryStore on its own: the reference semantics that SqlStore is checked against."""

from __future__ import annotations

import threading

from asyncstt.store.memory import InMemoryStore
from tests.factories import T0, at, make_operation


def test_threads_claiming_together_never_share_an_operation() -> None:
    store = InMemoryStore()
    for index in range(50):
        store.create(make_operation(f"op{index:02}", created_at=at(index % 5)))
    start = threading.Barrier(2)
    claims: list[list[str]] = [[], []]

    def work(slot: int) -> None:
        start.wait()
        while (claim := store.claim(f"w{slot}", 30, T0)) is not None:
            claims[slot].append(claim.operation.id)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not set(claims[0]) & set(claims[1])
    assert sorted(claims[0] + claims[1]) == [f"op{index:02}" for index in range(50)]
