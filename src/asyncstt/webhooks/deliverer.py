"""The webhook deliverer: a thread that claims due deliveries from the outbox and POSTs each one, signed.

A 2xx answer ends a delivery. Anything else, a connection error or a timeout, is tried again after a backoff
(`backoff.py`) until `max_age_seconds` after the operation ended; then it is given up, logged as a warning and
kept in the outbox as failed. Each attempt holds a lease on its row, so several processes on one store never
send the same delivery at once, and one that dies mid-attempt leaves the row due again when the lease runs out.
A receiver may still see a delivery twice (an answer lost on the way back): the operation id identifies it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from asyncstt.clock import utcnow
from asyncstt.settings import Settings
from asyncstt.store.base import DueDelivery, WebhookStore
from asyncstt.webhooks.backoff import next_attempt
from asyncstt.webhooks.registry import SecretBox
from asyncstt.webhooks.sender import DeliveryFailed, Sender
from asyncstt.webhooks.signature import signed_headers

log = logging.getLogger(__name__)

#: A lease covers the slowest attempt: connect, send and read may each take `timeout_seconds`, on more than
#: one address, and the outcome must still be written before it runs out.
_LEASE_TIMEOUTS = 4
_LEASE_MARGIN_SECONDS = 30.0


class WebhookDeliverer:
    """Delivers due webhook deliveries, one at a time, every `webhooks.poll_interval_seconds` while idle; purges
    deliveries over for longer than `limits.retention_seconds` every `execution.sweep_interval_seconds`."""

    def __init__(
        self,
        store: WebhookStore,
        secrets: SecretBox,
        settings: Settings,
        *,
        sender: Sender | None = None,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._secrets = secrets
        self._settings = settings.webhooks
        self._retention = timedelta(seconds=settings.limits.retention_seconds)
        self._sweep_interval = settings.execution.sweep_interval_seconds
        self._sender = sender or Sender(settings.webhooks)
        self._clock = clock
        self._monotonic = monotonic
        self._lease_seconds = (
            _LEASE_TIMEOUTS * self._settings.timeout_seconds + _LEASE_MARGIN_SECONDS
        )
        self._next_sweep = monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the attempt under way, if any; deliveries not sent stay due in the outbox."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sender.close()

    def deliver_due(self) -> int:
        """Attempt every delivery due now, until none is left or the deliverer stops; returns how many."""
        attempted = 0
        while not self._stop.is_set():
            due = self._store.claim_delivery(self._clock(), self._lease_seconds)
            if due is None:
                break
            self.attempt(due)
            attempted += 1
        return attempted

    def attempt(self, due: DueDelivery) -> bool:
        """Send one claimed delivery and record how it went; True when the receiver took it."""
        delivery = due.delivery
        extra = {"operation_id": delivery.operation_id}
        body = delivery.body.encode()
        try:
            secret = self._secrets.open(due.encrypted_secret)
            timestamp = int(self._clock().timestamp())
            status = self._sender.post(due.url, body, signed_headers(secret, timestamp, body))
        except DeliveryFailed as failure:
            self._failed(due, str(failure))
            return False
        except Exception as exc:
            log.exception("webhook delivery %d failed unexpectedly", delivery.id, extra=extra)
            self._failed(due, f"internal error: {exc}")
            return False
        self._store.mark_delivered(delivery.id, delivery.attempts, self._clock())
        log.info(
            "webhook of folder %s took %s (attempt %d, %d)",
            delivery.folder_id,
            delivery.operation_id,
            delivery.attempts,
            status,
            extra=extra,
        )
        return True

    def _failed(self, due: DueDelivery, error: str) -> None:
        delivery = due.delivery
        now = self._clock()
        retry_at = next_attempt(delivery.attempts, delivery.created_at, now, self._settings)
        self._store.record_failure(delivery.id, delivery.attempts, error, now, retry_at)
        extra = {"operation_id": delivery.operation_id}
        if retry_at is None:
            log.warning(
                "gave up the webhook delivery of %s to folder %s after %d attempts: %s",
                delivery.operation_id,
                delivery.folder_id,
                delivery.attempts,
                error,
                extra=extra,
            )
        else:
            log.info(
                "webhook delivery of %s failed (attempt %d), next at %s: %s",
                delivery.operation_id,
                delivery.attempts,
                retry_at.isoformat(),
                error,
                extra=extra,
            )

    def sweep_if_due(self) -> int:
        """Purge deliveries over for longer than the retention, at most once per sweep interval."""
        if self._monotonic() < self._next_sweep:
            return 0
        self._next_sweep = self._monotonic() + self._sweep_interval
        return self._store.purge_deliveries_before(self._clock() - self._retention)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sweep_if_due()
                self.deliver_due()
            except Exception:
                log.exception("delivering webhooks failed")
            self._stop.wait(self._settings.poll_interval_seconds)
