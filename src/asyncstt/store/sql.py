"""SqlStore: the durable store on SQLite (embedded default) or PostgreSQL, through SQLAlchemy Core.

Every method is one transaction. On SQLite, transactions that write start with `BEGIN IMMEDIATE`: they take the
write lock before reading, so a claim never reads a candidate that another writer is about to take, and waiting
for the lock goes through the busy timeout instead of failing. On PostgreSQL a claim's candidate is chosen
`FOR UPDATE SKIP LOCKED`, so concurrent dispatchers skip each other's rows instead of queueing on them. Which
operation a claim chooses, and a queued one's place, are in `sql_queue.py`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    not_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from asyncstt.errors import ErrorInfo
from asyncstt.operation import Idempotency, Operation, OperationState, Progress
from asyncstt.recognition import Priority, Transcript
from asyncstt.store.base import (
    Claim,
    notification_body,
    reused_key,
)
from asyncstt.store.database import (
    create_store_engine,
    dialect_insert,
    migrate_engine,
    single_reader_of,
    writer_of,
)
from asyncstt.store.rows import compressed, operation_of, row_of
from asyncstt.store.schema import (
    idempotency_keys,
    operation_audio,
    operations,
    slice_results,
)
from asyncstt.store.sql_queue import claim_candidate, claims_ahead
from asyncstt.store.sql_webhooks import SqlWebhookOutbox, queue_delivery

_QUEUED = OperationState.QUEUED.value
_RUNNING = OperationState.RUNNING.value
# The statements of every poll and submit, built once: SQLAlchemy keys its compiled cache by a statement's
# structure, which it would otherwise walk again for a statement built anew on each request.
_GET = select(operations).where(operations.c.id == bindparam("operation_id"))
_INSERT_OPERATION = insert(operations)
_INSERT_AUDIO = insert(operation_audio)


def _held_by(owner: str) -> ColumnElement[bool]:
    return and_(operations.c.state == _RUNNING, operations.c.lease_owner == owner)


def _insert_or_ignore(connection: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless one with its primary key exists; True when it was inserted.

    On PostgreSQL a conflicting insert of a concurrent transaction is waited for, so after False the existing
    row is committed and visible to the next statement.
    """
    statement = dialect_insert(connection, table).values(values).on_conflict_do_nothing()
    return connection.execute(statement).rowcount == 1


def _read(connection: Connection, operation_id: str) -> Operation | None:
    row = connection.execute(_GET, {"operation_id": operation_id}).mappings().one_or_none()
    return None if row is None else operation_of(row)


def _take_key(
    connection: Connection,
    operation: Operation,
    idempotency: Idempotency,
    keys_expire_before: datetime | None,
) -> Operation | None:
    """Make `operation` the holder of the folder's key; or the operation that holds it already."""
    slot = and_(
        idempotency_keys.c.folder_id == operation.folder_id,
        idempotency_keys.c.key == idempotency.key,
    )
    values = {
        "request_hash": idempotency.request_hash,
        "operation_id": operation.id,
        "created_at": operation.created_at,
    }
    fresh = {"folder_id": operation.folder_id, "key": idempotency.key, **values}
    if _insert_or_ignore(connection, idempotency_keys, fresh):
        return None
    held = (
        connection.execute(select(idempotency_keys).where(slot).with_for_update()).mappings().one()
    )
    holder = _read(connection, held["operation_id"])
    expired = keys_expire_before is not None and held["created_at"] < keys_expire_before
    if holder is None or expired:
        connection.execute(update(idempotency_keys).where(slot).values(values))
        return None
    if held["request_hash"] != idempotency.request_hash:
        raise reused_key(idempotency.key)
    return holder


class SqlStore(SqlWebhookOutbox):
    """The `OperationStore` on a SQL database. See the module docstring for how claims stay exclusive."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self._engine = create_store_engine(url)
        self._writer = writer_of(self._engine)
        self._reader = single_reader_of(self._engine)
        if migrate:
            try:
                migrate_engine(self._engine)
            except BaseException:
                self._engine.dispose()
                raise

    @property
    def engine(self) -> Engine:
        """For reads; other stores on the same database (identity) share it."""
        return self._engine

    @property
    def writer(self) -> Engine:
        """For transactions that write: on SQLite they take the write lock at BEGIN (see the module docstring)."""
        return self._writer

    def create(
        self,
        operation: Operation,
        inline_audio: bytes | None = None,
        idempotency: Idempotency | None = None,
        *,
        keys_expire_before: datetime | None = None,
    ) -> Operation:
        try:
            with self._writer.begin() as connection:
                if idempotency is not None:
                    holder = _take_key(connection, operation, idempotency, keys_expire_before)
                    if holder is not None:
                        return holder
                connection.execute(_INSERT_OPERATION, row_of(operation))
                if inline_audio is not None:
                    connection.execute(
                        _INSERT_AUDIO, {"operation_id": operation.id, "data": inline_audio}
                    )
        except IntegrityError as exc:
            raise ValueError(f"operation {operation.id} exists") from exc
        return operation

    def get(self, operation_id: str) -> Operation | None:
        with self._reader.connect() as connection:
            return _read(connection, operation_id)

    def claim(
        self,
        owner: str,
        lease_seconds: float,
        now: datetime,
        deferred_deadline_seconds: float | None = None,
    ) -> Claim | None:
        candidate = claim_candidate(now, deferred_deadline_seconds)
        with self._writer.begin() as connection:
            chosen = connection.execute(candidate).one_or_none()
            if chosen is None:
                return None
            statement = (
                update(operations)
                .where(operations.c.id == chosen.id)
                .values(
                    state=_RUNNING,
                    lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    attempts=operations.c.attempts + 1,
                    modified_at=now,
                )
                .returning(*operations.c)
            )
            row = connection.execute(statement).mappings().one()
        return Claim(operation_of(row), took_over=chosen.state == _RUNNING)

    def queue_position(
        self, operation: Operation, now: datetime, deferred_deadline_seconds: float | None = None
    ) -> int:
        statement, values = claims_ahead(operation, now, deferred_deadline_seconds)
        with self._reader.connect() as connection:
            return 1 + connection.execute(statement, values).scalar_one()

    def renew(self, operation_id: str, owner: str, lease_seconds: float, now: datetime) -> bool:
        statement = (
            update(operations)
            .where(operations.c.id == operation_id, _held_by(owner))
            .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        )
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def release(self, operation_id: str, owner: str, now: datetime) -> bool:
        queued = Progress()
        statement = (
            update(operations)
            .where(operations.c.id == operation_id, _held_by(owner))
            .values(
                state=_QUEUED,
                lease_owner=None,
                lease_expires_at=None,
                processed_seconds=queued.processed_seconds,
                total_seconds=queued.total_seconds,
                stage=queued.stage,
                modified_at=now,
            )
        )
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def set_progress(
        self, operation_id: str, owner: str, progress: Progress, now: datetime
    ) -> bool:
        statement = (
            update(operations)
            .where(operations.c.id == operation_id, _held_by(owner))
            .values(
                processed_seconds=progress.processed_seconds,
                total_seconds=progress.total_seconds,
                stage=progress.stage,
                modified_at=now,
            )
        )
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def finish(
        self,
        operation_id: str,
        owner: str | None,
        now: datetime,
        result: Transcript | None = None,
        error: ErrorInfo | None = None,
    ) -> bool:
        if (result is None) == (error is None):
            raise ValueError("exactly one of result and error")
        condition = operations.c.state == _QUEUED if owner is None else _held_by(owner)
        statement = (
            update(operations)
            .where(operations.c.id == operation_id, condition)
            .values(
                state=(
                    OperationState.SUCCEEDED if result is not None else OperationState.FAILED
                ).value,
                result=compressed(result),
                error_code=None if error is None else error.code,
                error_message=None if error is None else error.message,
                done_at=now,
                modified_at=now,
                lease_owner=None,
                lease_expires_at=None,
                processed_seconds=operations.c.total_seconds,
                stage="done",
            )
            .returning(operations.c.folder_id)
        )
        with self._writer.begin() as connection:
            folder_id = connection.execute(statement).scalar_one_or_none()
            if folder_id is None:
                return False
            queue_delivery(
                connection, operation_id, folder_id, notification_body(operation_id, error), now
            )
            connection.execute(
                delete(operation_audio).where(operation_audio.c.operation_id == operation_id)
            )
            connection.execute(
                delete(slice_results).where(slice_results.c.operation_id == operation_id)
            )
        return True

    def save_slice(
        self,
        operation_id: str,
        owner: str,
        plan: str,
        slice_index: int,
        result: bytes,
        now: datetime,
    ) -> bool:
        held = select(operations.c.id).where(operations.c.id == operation_id, _held_by(owner))
        with self._writer.begin() as connection:
            # FOR SHARE keeps a concurrent claim from taking the operation between the check and the insert.
            if connection.execute(held.with_for_update(read=True)).one_or_none() is None:
                return False
            _insert_or_ignore(
                connection,
                slice_results,
                {
                    "operation_id": operation_id,
                    "plan": plan,
                    "slice_index": slice_index,
                    "result": result,
                    "created_at": now,
                },
            )
        return True

    def saved_slices(self, operation_id: str, plan: str) -> dict[int, bytes]:
        statement = select(slice_results.c.slice_index, slice_results.c.result).where(
            slice_results.c.operation_id == operation_id, slice_results.c.plan == plan
        )
        with self._engine.connect() as connection:
            return {index: bytes(result) for index, result in connection.execute(statement)}

    def latest_saved_slices(self, operation_id: str) -> dict[int, bytes]:
        latest = (
            select(slice_results.c.plan)
            .where(slice_results.c.operation_id == operation_id)
            .order_by(slice_results.c.created_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        statement = select(slice_results.c.slice_index, slice_results.c.result).where(
            slice_results.c.operation_id == operation_id, slice_results.c.plan == latest
        )
        with self._engine.connect() as connection:
            return {index: bytes(result) for index, result in connection.execute(statement)}

    def request_cancel(self, operation_id: str, now: datetime) -> Operation | None:
        statement = (
            update(operations)
            .where(
                operations.c.id == operation_id,
                operations.c.state == _RUNNING,
                not_(operations.c.cancel_requested),
            )
            .values(cancel_requested=True, modified_at=now)
        )
        with self._writer.begin() as connection:
            connection.execute(statement)
            return _read(connection, operation_id)

    def delete(self, operation_id: str) -> bool:
        # The audio row goes with it: ON DELETE CASCADE.
        with self._writer.begin() as connection:
            return (
                connection.execute(
                    delete(operations).where(operations.c.id == operation_id)
                ).rowcount
                == 1
            )

    def purge_finished_before(self, cutoff: datetime) -> list[str]:
        statement = (
            delete(operations).where(operations.c.done_at < cutoff).returning(operations.c.id)
        )
        with self._writer.begin() as connection:
            return list(connection.execute(statement).scalars())

    def forget_idempotency_keys_before(self, cutoff: datetime) -> int:
        statement = delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount

    def state_counts(self) -> dict[tuple[OperationState, Priority], int]:
        statement = select(operations.c.state, operations.c.priority, func.count()).group_by(
            operations.c.state, operations.c.priority
        )
        with self._engine.connect() as connection:
            return {
                (OperationState(state), Priority(priority)): count
                for state, priority, count in connection.execute(statement)
            }

    def inline_audio(self, operation_id: str) -> bytes | None:
        statement = select(operation_audio.c.data).where(
            operation_audio.c.operation_id == operation_id
        )
        with self._engine.connect() as connection:
            data = connection.execute(statement).scalar_one_or_none()
        return None if data is None else bytes(data)

    def close(self) -> None:
        self._engine.dispose()
