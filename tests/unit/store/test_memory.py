"""InMemoryStore on its own: the reference semantics that SqlStore is checked against."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from asyncstt.operation import ApiVersion, Operation
from asyncstt.recognition import RecognitionSpec
from asyncstt.store.memory import InMemoryStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _operation(operation_id: str, seconds: int) -> Operation:
    created = T0 + timedelta(seconds=seconds)
    return Operation(
        id=operation_id,
        folder_id="f",
        created_by="sa",
        api=ApiVersion.V2,
        spec=RecognitionSpec(language="en-US"),
        source_uri="inline:",
        created_at=created,
        modified_at=created,
    )


def test_threads_claiming_together_never_share_an_operation() -> None:
    store = InMemoryStore()
    for index in range(50):
        store.create(_operation(f"op{index:02}", index % 5))
    start = threading.Barrier(2)
    claims: list[list[str]] = [[], []]

    def work(slot: int) -> None:
        start.wait()
        while (operation := store.claim(f"w{slot}", 30, T0)) is not None:
            claims[slot].append(operation.id)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not set(claims[0]) & set(claims[1])
    assert sorted(claims[0] + claims[1]) == [f"op{index:02}" for index in range(50)]
