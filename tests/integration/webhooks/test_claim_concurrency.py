"""Several deliverers on one database never hold the same delivery at once: threads with stores of their own
racing to claim every due delivery, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from asyncstt.errors import ErrorInfo
from asyncstt.store.base import Webhook
from asyncstt.store.sql import SqlStore
from tests.factories import T0, at, make_operation

pytestmark = pytest.mark.integration

DELIVERIES = 40
DELIVERERS = 4


def test_concurrent_deliverers_claim_each_delivery_once(store_url: str) -> None:
    setup = SqlStore(store_url)
    setup.set_webhook(Webhook(make_operation("x").folder_id, "https://h.example.com/", b"s", T0))
    for index in range(DELIVERIES):
        setup.create(make_operation(f"op{index:02}"))
        assert setup.finish(f"op{index:02}", None, at(index % 5), error=ErrorInfo(1, "cancelled"))
    stores = [SqlStore(store_url, migrate=False) for _ in range(DELIVERERS)]
    start = threading.Barrier(DELIVERERS)
    claimed: list[list[str]] = [[] for _ in range(DELIVERERS)]

    def work(slot: int) -> None:
        start.wait()
        while (due := stores[slot].claim_delivery(at(10), 300)) is not None:
            claimed[slot].append(due.delivery.operation_id)
            assert stores[slot].mark_delivered(due.delivery.id, due.delivery.attempts, at(11))

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(DELIVERERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    everything = [operation_id for ids in claimed for operation_id in ids]
    assert sorted(everything) == [f"op{index:02}" for index in range(DELIVERIES)]
    deliveries = setup.deliveries()
    assert {(d.attempts, d.delivered_at) for d in deliveries} == {(1, at(11))}
    for store in [setup, *stores]:
        store.close()
