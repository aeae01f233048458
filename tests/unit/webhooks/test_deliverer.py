"""The deliverer POSTs each finished operation once, signed, retries failures with backoff and gives up after a
day; on the in-memory store with a fake clock and a mock receiver."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from asyncstt.errors import ErrorInfo
from asyncstt.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.factories import T0, make_operation
from tests.unit.webhooks.conftest import FOLDER, PRIVATE, Rig


def test_a_finished_operation_is_posted_signed_without_its_text(rig: Rig) -> None:
    rig.finish("op1")
    rig.clock.advance(2)
    assert rig.deliverer.deliver_due() == 1
    [request] = rig.receiver.requests
    assert request.method == "POST"
    assert str(request.url) == "https://93.184.216.34/asyncstt?token=abc"
    assert request.headers["host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.headers["content-type"] == "application/json"
    assert request.content == b'{"id":"op1","done":true}'
    assert b"secret words" not in request.content
    timestamp = int(request.headers[TIMESTAMP_HEADER])
    assert timestamp == int(T0.timestamp()) + 2
    assert verify(rig.secret, timestamp, request.content, request.headers[SIGNATURE_HEADER])
    [delivery] = rig.store.deliveries(FOLDER)
    assert (delivery.attempts, delivery.delivered_at, delivery.next_attempt_at) == (
        1,
        rig.clock(),
        None,
    )
    assert rig.deliverer.deliver_due() == 0


def test_a_failed_or_cancelled_operation_carries_its_error(rig: Rig) -> None:
    rig.finish("op1", ErrorInfo(3, "the audio is not OGG_OPUS"))
    rig.finish("op2", ErrorInfo(1, "cancelled"))
    assert rig.deliverer.deliver_due() == 2
    assert rig.receiver.bodies() == [
        {"id": "op1", "done": True, "error": {"code": 3, "message": "the audio is not OGG_OPUS"}},
        {"id": "op2", "done": True, "error": {"code": 1, "message": "cancelled"}},
    ]


def test_an_operation_cancelled_before_it_started_is_announced_too(rig: Rig) -> None:
    rig.store.create(make_operation("queued"))
    assert rig.store.finish("queued", None, rig.clock(), error=ErrorInfo(1, "cancelled"))
    assert rig.deliverer.deliver_due() == 1
    assert rig.receiver.bodies() == [
        {"id": "queued", "done": True, "error": {"code": 1, "message": "cancelled"}}
    ]


def test_a_refused_delivery_is_retried_after_the_backoff(rig: Rig) -> None:
    rig.receiver.statuses = [500, 503]
    rig.finish("op1")
    assert rig.deliverer.deliver_due() == 1
    [delivery] = rig.store.deliveries()
    assert (
        delivery.last_error
        == "https://hooks.example.com/asyncstt answered 500 Internal Server Error: busy"
    )
    assert delivery.next_attempt_at is not None
    assert (delivery.next_attempt_at - rig.clock()).total_seconds() == 10
    rig.clock.advance(9)
    assert rig.deliverer.deliver_due() == 0
    rig.clock.advance(1)
    assert rig.deliverer.deliver_due() == 1
    [delivery] = rig.store.deliveries()
    assert delivery.next_attempt_at == rig.clock() + timedelta(seconds=20)
    rig.clock.advance(20)
    assert rig.deliverer.deliver_due() == 1
    [delivery] = rig.store.deliveries()
    assert delivery.attempts == 3
    assert delivery.delivered_at == rig.clock()
    assert [r.content for r in rig.receiver.requests] == [b'{"id":"op1","done":true}'] * 3
    # Each attempt is signed at its own time.
    stamps = [int(r.headers[TIMESTAMP_HEADER]) for r in rig.receiver.requests]
    assert stamps == [int(T0.timestamp()) + s for s in (0, 10, 30)]


def test_a_delivery_is_given_up_a_day_after_the_operation_ended(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.receiver.statuses = [500] * 1000
    rig.finish("op1")
    attempts = 0
    with caplog.at_level(logging.INFO, logger="asyncstt.webhooks.deliverer"):
        while rig.store.deliveries()[0].failed_at is None:
            attempts += rig.deliverer.deliver_due()
            rig.clock.advance(60)
            assert attempts < 100
    [delivery] = rig.store.deliveries()
    assert delivery.attempts == attempts == len(rig.receiver.requests)
    assert delivery.next_attempt_at is None
    assert delivery.delivered_at is None
    assert delivery.failed_at is not None
    assert T0 + timedelta(hours=23) < delivery.failed_at <= T0 + timedelta(hours=24)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "gave up the webhook delivery of op1" in warnings[0].getMessage()
    assert "answered 500" in warnings[0].getMessage()
    rig.clock.advance(48 * 3600)
    assert rig.deliverer.deliver_due() == 0


def test_the_address_guard_is_applied_again_at_delivery(rig: Rig) -> None:
    rig.finish("op1")
    # The name now resolves to a private address: the request is never sent.
    rig.addresses["hooks.example.com"] = [PRIVATE]
    assert rig.deliverer.deliver_due() == 1
    assert rig.receiver.requests == []
    [delivery] = rig.store.deliveries()
    assert delivery.last_error is not None
    assert "10.0.0.5 (private address)" in delivery.last_error
    assert delivery.next_attempt_at is not None


def test_a_connection_error_is_retried(rig: Rig) -> None:
    rig.receiver.refuse_connections = True
    rig.finish("op1")
    assert rig.deliverer.deliver_due() == 1
    [delivery] = rig.store.deliveries()
    assert delivery.last_error == (
        "cannot connect to hooks.example.com for https://hooks.example.com/asyncstt: connection refused"
    )
    assert delivery.next_attempt_at == rig.clock() + timedelta(seconds=10)
    rig.receiver.refuse_connections = False
    rig.clock.advance(10)
    assert rig.deliverer.deliver_due() == 1
    assert rig.store.deliveries()[0].delivered_at == rig.clock()


def test_operations_of_folders_without_a_webhook_are_not_announced(rig: Rig) -> None:
    rig.registry.remove(FOLDER)
    rig.finish("op1")
    assert rig.store.deliveries() == []
    assert rig.deliverer.deliver_due() == 0
