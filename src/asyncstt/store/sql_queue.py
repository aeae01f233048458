"""The queue's order in SQL: the operation a claim takes next, and how many a claim takes before a queued one.

A claim chooses from the QUEUED operations and the RUNNING ones whose lease has run out. It takes the urgent ones
first (standard operations, and deferred ones that have waited their deadline), each group oldest first and by id
among equals. A queued operation's place counts the same order, so it is the number of claims before its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, func, or_, select
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import Select

from asyncstt.operation import Operation, OperationState
from asyncstt.recognition import Priority
from asyncstt.store.schema import operations

_QUEUED = OperationState.QUEUED.value
_RUNNING = OperationState.RUNNING.value


def _claimable_parts(
    now: datetime | BindParameter[Any],
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The two disjoint parts of `_claimable`: the QUEUED operations, and the RUNNING ones whose lease has run
    out."""
    return (
        operations.c.state == _QUEUED,
        and_(operations.c.state == _RUNNING, operations.c.lease_expires_at <= now),
    )


def _claimable(now: datetime | BindParameter[Any]) -> ColumnElement[bool]:
    """What a claim chooses from: QUEUED operations and RUNNING ones whose lease has run out."""
    return or_(*_claimable_parts(now))


def _aged_before(now: datetime, deferred_deadline_seconds: float | None) -> datetime | None:
    """The creation time at or before which a deferred operation has waited its deadline (None: none ages)."""
    if deferred_deadline_seconds is None:
        return None
    return now - timedelta(seconds=deferred_deadline_seconds)


def _urgent(aged_before: datetime | BindParameter[Any] | None) -> ColumnElement[bool]:
    """Standard operations, and deferred ones created at or before `aged_before` (None: none ages)."""
    urgent = operations.c.priority == int(Priority.STANDARD)
    if aged_before is None:
        return urgent
    return or_(urgent, operations.c.created_at <= aged_before)


def _ahead(own_urgent: bool, ages: bool) -> Select[int]:
    """The count of claimable operations that a claim takes before a queued one: ahead of an urgent operation
    older urgent ones; of any other, every urgent one and older others. Built once per shape, so a poll of a
    queued operation pays for its query, not for building and keying a statement.

    The queued ones, nearly all of them, are counted as ranges of the claim index (state, priority, created
    time), which SQLite counts from the index alone; one condition over all claimable rows made it read each
    row from the table and test it, three times the cost for a long queue. Urgency is `_urgent` spelled out
    per priority: a standard operation is urgent; another one is urgent once it has aged, which for a
    non-urgent polled operation means created before it, so older.
    """
    created_at: BindParameter[datetime] = bindparam("created_at")
    operation_id: BindParameter[str] = bindparam("operation_id")
    queued = operations.c.state == _QUEUED

    def older(priority: Priority, *also: ColumnElement[bool]) -> list[Select[int]]:
        of_priority = and_(queued, operations.c.priority == int(priority), *also)
        return [
            select(func.count()).where(of_priority, operations.c.created_at < created_at),
            select(func.count()).where(
                of_priority, operations.c.created_at == created_at, operations.c.id < operation_id
            ),
        ]

    others = [priority for priority in Priority if priority is not Priority.STANDARD]
    if own_urgent:
        counts = older(Priority.STANDARD)
        if ages:
            aged = operations.c.created_at <= bindparam("aged_before")
            counts += [count for priority in others for count in older(priority, aged)]
    else:
        standard = and_(queued, operations.c.priority == int(Priority.STANDARD))
        counts = [select(func.count()).where(standard)]
        counts += [count for priority in others for count in older(priority)]
    urgent = _urgent(bindparam("aged_before") if ages else None)
    older_than_own = or_(
        operations.c.created_at < created_at,
        and_(operations.c.created_at == created_at, operations.c.id < operation_id),
    )
    ahead = and_(urgent, older_than_own) if own_urgent else or_(urgent, older_than_own)
    _, expired = _claimable_parts(bindparam("now"))
    counts.append(select(func.count()).where(expired, ahead))
    total: ColumnElement[int] = counts[0].scalar_subquery()
    for count in counts[1:]:
        total = total + count.scalar_subquery()
    return select(total)


#: `_ahead` of each shape: (the operation is urgent, deferred operations age into urgent ones).
_AHEAD = {(own, ages): _ahead(own, ages) for own in (False, True) for ages in (False, True)}


def claim_candidate(
    now: datetime, deferred_deadline_seconds: float | None
) -> Select[tuple[str, str]]:
    """The id and state of the operation a claim takes now, locked; rows other claims hold locked are skipped."""
    rank = case((_urgent(_aged_before(now, deferred_deadline_seconds)), 0), else_=1)
    return (
        select(operations.c.id, operations.c.state)
        .where(_claimable(now))
        .order_by(rank, operations.c.created_at, operations.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def claims_ahead(
    operation: Operation, now: datetime, deferred_deadline_seconds: float | None
) -> tuple[Select[int], dict[str, Any]]:
    """The statement counting the claims that come before `operation`'s, and its parameters."""
    values: dict[str, Any] = {
        "now": now,
        "created_at": operation.created_at,
        "operation_id": operation.id,
    }
    own_urgent = operation.priority is Priority.STANDARD
    aged_before = _aged_before(now, deferred_deadline_seconds)
    if aged_before is not None:
        values["aged_before"] = aged_before
        own_urgent = own_urgent or operation.created_at <= aged_before
    return _AHEAD[own_urgent, aged_before is not None], values
