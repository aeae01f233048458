"""The webhook registrations and delivery outbox of `SqlStore`, on the same database and transactions.

A finished operation's announcement is queued by `queue_delivery` inside the transaction that finishes it, so an
operation never ends without its delivery row, nor a row exists for an operation that did not end.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    RowMapping,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)

from asyncstt.store.base import Delivery, DueDelivery, Webhook
from asyncstt.store.database import dialect_insert
from asyncstt.store.schema import webhook_deliveries, webhooks


def queue_delivery(
    connection: Connection, operation_id: str, folder_id: str, body: str, now: datetime
) -> None:
    """Put the operation's announcement in the outbox when its folder has a webhook."""
    # FOR SHARE: a webhook removed concurrently waits for this transaction, so the row's foreign key holds.
    hook = select(webhooks.c.folder_id).where(webhooks.c.folder_id == folder_id)
    if connection.execute(hook.with_for_update(read=True)).one_or_none() is None:
        return
    connection.execute(
        insert(webhook_deliveries).values(
            operation_id=operation_id,
            folder_id=folder_id,
            body=body,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )


def _delivery_of(row: RowMapping) -> Delivery:
    return Delivery(
        id=row["id"],
        operation_id=row["operation_id"],
        folder_id=row["folder_id"],
        body=row["body"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
        failed_at=row["failed_at"],
    )


def _webhook_of(row: RowMapping) -> Webhook:
    return Webhook(
        folder_id=row["folder_id"],
        url=row["url"],
        encrypted_secret=bytes(row["encrypted_secret"]),
        created_at=row["created_at"],
    )


def _attempting(delivery_id: int, attempt: int) -> ColumnElement[bool]:
    """The delivery is still under the attempt `attempt`: not over, not claimed again since."""
    return and_(
        webhook_deliveries.c.id == delivery_id,
        webhook_deliveries.c.attempts == attempt,
        webhook_deliveries.c.next_attempt_at.is_not(None),
    )


class SqlWebhookOutbox:
    """The webhook part of `SqlStore`'s port; it reads through `_engine` and writes through `_writer`."""

    _engine: Engine
    _writer: Engine

    def set_webhook(self, webhook: Webhook) -> None:
        values = {
            "url": webhook.url,
            "encrypted_secret": webhook.encrypted_secret,
            "created_at": webhook.created_at,
        }
        with self._writer.begin() as connection:
            statement = dialect_insert(connection, webhooks).values(
                folder_id=webhook.folder_id, **values
            )
            connection.execute(
                statement.on_conflict_do_update(index_elements=["folder_id"], set_=values)
            )

    def get_webhook(self, folder_id: str) -> Webhook | None:
        statement = select(webhooks).where(webhooks.c.folder_id == folder_id)
        with self._engine.connect() as connection:
            row = connection.execute(statement).mappings().one_or_none()
        return None if row is None else _webhook_of(row)

    def list_webhooks(self) -> list[Webhook]:
        statement = select(webhooks).order_by(webhooks.c.folder_id)
        with self._engine.connect() as connection:
            return [_webhook_of(row) for row in connection.execute(statement).mappings()]

    def remove_webhook(self, folder_id: str) -> bool:
        # Its deliveries go with it: ON DELETE CASCADE.
        statement = delete(webhooks).where(webhooks.c.folder_id == folder_id)
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def claim_delivery(self, now: datetime, lease_seconds: float) -> DueDelivery | None:
        due = select(webhook_deliveries.c.id).where(webhook_deliveries.c.next_attempt_at <= now)
        candidate = (
            due.order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        # Looked for without the write lock first: an idle deliverer polls, and on SQLite a writer's
        # transaction would hold up the dispatchers each time.
        with self._engine.connect() as connection:
            if connection.execute(due.limit(1)).first() is None:
                return None
        with self._writer.begin() as connection:
            chosen = connection.execute(candidate).scalar_one_or_none()
            if chosen is None:
                return None
            statement = (
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == chosen)
                .values(
                    attempts=webhook_deliveries.c.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=lease_seconds),
                )
                .returning(*webhook_deliveries.c)
            )
            delivery = _delivery_of(connection.execute(statement).mappings().one())
            hook = (
                connection.execute(
                    select(webhooks).where(webhooks.c.folder_id == delivery.folder_id)
                )
                .mappings()
                .one()
            )
        return DueDelivery(delivery, hook["url"], bytes(hook["encrypted_secret"]))

    def mark_delivered(self, delivery_id: int, attempt: int, now: datetime) -> bool:
        statement = (
            update(webhook_deliveries)
            .where(_attempting(delivery_id, attempt))
            .values(next_attempt_at=None, delivered_at=now)
        )
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def record_failure(
        self,
        delivery_id: int,
        attempt: int,
        error: str,
        now: datetime,
        next_attempt_at: datetime | None,
    ) -> bool:
        statement = (
            update(webhook_deliveries)
            .where(_attempting(delivery_id, attempt))
            .values(
                last_error=error,
                next_attempt_at=next_attempt_at,
                failed_at=now if next_attempt_at is None else None,
            )
        )
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def deliveries(self, folder_id: str | None = None) -> list[Delivery]:
        statement = select(webhook_deliveries).order_by(webhook_deliveries.c.id)
        if folder_id is not None:
            statement = statement.where(webhook_deliveries.c.folder_id == folder_id)
        with self._engine.connect() as connection:
            return [_delivery_of(row) for row in connection.execute(statement).mappings()]

    def purge_deliveries_before(self, cutoff: datetime) -> int:
        statement = delete(webhook_deliveries).where(
            or_(webhook_deliveries.c.delivered_at < cutoff, webhook_deliveries.c.failed_at < cutoff)
        )
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount
