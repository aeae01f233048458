"""The webhook outbox on every store: written with the operation's end, claimed under a lease, fenced by the
attempt number, given up, purged, and removed with its webhook."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from asyncstt.errors import ErrorInfo
from asyncstt.operation import OperationState
from asyncstt.store.base import Webhook
from asyncstt.store.memory import InMemoryStore
from asyncstt.store.sql import SqlStore
from tests.factories import T0, at, make_operation, make_transcript

pytestmark = pytest.mark.integration

Store = InMemoryStore | SqlStore
FOLDER = make_operation("x").folder_id
HOOK = Webhook(FOLDER, "https://hooks.example.com/in", b"sealed", T0)


def _running(store: Store, operation_id: str, folder_id: str = FOLDER) -> None:
    store.create(make_operation(operation_id, folder_id=folder_id))
    claim = store.claim("owner", 30, at(1))
    assert claim is not None
    assert claim.operation.id == operation_id


def test_the_end_of_an_operation_queues_its_delivery(store: Store) -> None:
    store.set_webhook(HOOK)
    _running(store, "ok")
    assert store.finish("ok", "owner", at(5), result=make_transcript(2, 1, text="hidden words"))
    _running(store, "bad")
    assert store.finish("bad", "owner", at(6), error=ErrorInfo(3, "no audio stream"))
    store.create(make_operation("cancelled"))
    assert store.finish("cancelled", None, at(7), error=ErrorInfo(1, "cancelled"))
    deliveries = store.deliveries(FOLDER)
    assert [(d.operation_id, d.body) for d in deliveries] == [
        ("ok", '{"id":"ok","done":true}'),
        ("bad", '{"id":"bad","done":true,"error":{"code":3,"message":"no audio stream"}}'),
        ("cancelled", '{"id":"cancelled","done":true,"error":{"code":1,"message":"cancelled"}}'),
    ]
    first = deliveries[0]
    assert (first.folder_id, first.attempts, first.created_at, first.next_attempt_at) == (
        FOLDER,
        0,
        at(5),
        at(5),
    )
    assert (first.last_error, first.delivered_at, first.failed_at) == (None, None, None)


def test_no_delivery_without_a_webhook_or_without_an_end(store: Store) -> None:
    store.set_webhook(HOOK)
    _running(store, "elsewhere", folder_id="b1gother")
    assert store.finish("elsewhere", "owner", at(5), error=ErrorInfo(13, "boom"))
    _running(store, "held")
    # Not the lease holder: nothing ends, nothing is announced.
    assert not store.finish("held", "intruder", at(5), error=ErrorInfo(13, "boom"))
    assert store.deliveries() == []


@pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
def test_the_operation_does_not_end_when_its_delivery_cannot_be_written(store: SqlStore) -> None:
    store.set_webhook(HOOK)
    _running(store, "op1")
    with store.writer.begin() as connection:
        connection.execute(text("DROP TABLE webhook_deliveries"))
    with pytest.raises(DBAPIError):
        store.finish("op1", "owner", at(5), error=ErrorInfo(13, "boom"))
    operation = store.get("op1")
    assert operation is not None
    assert (operation.state, operation.lease_owner, operation.done_at) == (
        OperationState.RUNNING,
        "owner",
        None,
    )


def test_a_claim_holds_the_delivery_for_its_lease(store: Store) -> None:
    store.set_webhook(HOOK)
    store.create(make_operation("op1"))
    assert store.finish("op1", None, at(0), error=ErrorInfo(1, "cancelled"))
    assert store.claim_delivery(at(-1), 60) is None
    due = store.claim_delivery(at(1), 60)
    assert due is not None
    assert (due.url, due.encrypted_secret) == (HOOK.url, HOOK.encrypted_secret)
    assert (due.delivery.attempts, due.delivery.next_attempt_at) == (1, at(61))
    assert store.claim_delivery(at(60), 60) is None
    # The attempt's holder died: once the lease runs out the delivery is due again, under attempt 2.
    again = store.claim_delivery(at(61), 60)
    assert again is not None
    assert again.delivery.attempts == 2
    assert not store.mark_delivered(due.delivery.id, 1, at(62))
    assert not store.record_failure(due.delivery.id, 1, "late", at(62), at(100))
    assert store.mark_delivered(again.delivery.id, 2, at(62))
    assert not store.mark_delivered(again.delivery.id, 2, at(63))
    [delivered] = store.deliveries()
    assert (delivered.delivered_at, delivered.next_attempt_at, delivered.attempts) == (
        at(62),
        None,
        2,
    )
    assert store.claim_delivery(at(10_000), 60) is None


def test_failures_reschedule_and_then_give_up(store: Store) -> None:
    store.set_webhook(HOOK)
    store.create(make_operation("op1"))
    assert store.finish("op1", None, at(0), error=ErrorInfo(1, "cancelled"))
    first = store.claim_delivery(at(0), 60)
    assert first is not None
    assert store.record_failure(first.delivery.id, 1, "answered 500", at(1), at(11))
    assert store.claim_delivery(at(10), 60) is None
    second = store.claim_delivery(at(11), 60)
    assert second is not None
    assert store.record_failure(second.delivery.id, 2, "timed out", at(12), None)
    [failed] = store.deliveries()
    assert (failed.attempts, failed.last_error, failed.failed_at, failed.next_attempt_at) == (
        2,
        "timed out",
        at(12),
        None,
    )
    assert store.claim_delivery(at(100_000), 60) is None


def test_deliveries_over_are_purged_after_the_cutoff(store: Store) -> None:
    store.set_webhook(HOOK)
    for index in range(3):
        store.create(make_operation(f"op{index}"))
        assert store.finish(f"op{index}", None, at(index), error=ErrorInfo(1, "cancelled"))
    delivered = store.claim_delivery(at(0), 60)
    failed = store.claim_delivery(at(1), 60)
    assert delivered is not None
    assert failed is not None
    assert store.mark_delivered(delivered.delivery.id, 1, at(5))
    assert store.record_failure(failed.delivery.id, 1, "refused", at(6), None)
    assert store.purge_deliveries_before(at(5)) == 0
    assert store.purge_deliveries_before(at(6)) == 1
    assert store.purge_deliveries_before(at(1000)) == 1
    # Still pending: kept, whatever its age.
    assert [d.operation_id for d in store.deliveries()] == ["op2"]


def test_webhooks_are_replaced_listed_and_removed_with_their_deliveries(store: Store) -> None:
    store.set_webhook(HOOK)
    other = Webhook("b1gother", "http://other.example.com/", b"other", at(3))
    store.set_webhook(other)
    moved = Webhook(FOLDER, "https://hooks.example.com/v2", b"resealed", at(9))
    store.set_webhook(moved)
    assert store.list_webhooks() == [moved, other]  # by folder id
    assert store.get_webhook(FOLDER) == moved
    store.create(make_operation("op1"))
    assert store.finish("op1", None, at(10), error=ErrorInfo(1, "cancelled"))
    due = store.claim_delivery(at(10), 60)
    assert due is not None
    # Pending deliveries go to the webhook as it is now.
    assert (due.url, due.encrypted_secret) == (moved.url, b"resealed")
    assert store.remove_webhook(FOLDER)
    assert not store.remove_webhook(FOLDER)
    assert store.get_webhook(FOLDER) is None
    assert store.deliveries() == []
    assert store.list_webhooks() == [other]
    assert store.claim_delivery(at(10) + timedelta(days=1), 60) is None
