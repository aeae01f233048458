"""SqlQuotaCounter: the quota counter on the SqlStore's database (SQLite or PostgreSQL).

A count is one `INSERT … ON CONFLICT DO UPDATE … RETURNING` through the SqlStore's writer, atomic across
processes, so every API process on one database spends the same quota.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Connection, delete, select, tuple_

from asyncstt.iam.counters import QUOTA_COUNTER_RETENTION, QUOTA_PRUNE_INTERVAL
from asyncstt.store.database import dialect_insert
from asyncstt.store.schema import quota_counters
from asyncstt.store.sql import SqlStore

#: Most stale quota counters one count deletes; when there were more, the next count goes on.
QUOTA_PRUNE_BATCH = 1000


class SqlQuotaCounter:
    """`QuotaCounter` on a `SqlStore`'s database; closing the SqlStore closes it too."""

    def __init__(self, store: SqlStore) -> None:
        self._writer = store.writer
        self._prune_lock = threading.Lock()
        self._pruned_at: datetime | None = None

    def count_request(
        self, subject: str, quota: str, window_start: datetime, now: datetime, amount: int = 1
    ) -> int:
        prune = self._prune_due(now)
        with self._writer.begin() as connection:
            pruned = self._prune(connection, now - QUOTA_COUNTER_RETENTION) if prune else 0
            statement = (
                dialect_insert(connection, quota_counters)
                .values(subject=subject, quota=quota, window_start=window_start, count=amount)
                .on_conflict_do_update(
                    index_elements=[
                        quota_counters.c.subject,
                        quota_counters.c.quota,
                        quota_counters.c.window_start,
                    ],
                    set_={"count": quota_counters.c.count + amount},
                )
                .returning(quota_counters.c.count)
            )
            count: int = connection.execute(statement).scalar_one()
        if pruned == QUOTA_PRUNE_BATCH:
            # More may be left: look again on the next count instead of a minute later.
            with self._prune_lock:
                self._pruned_at = None
        return count

    def _prune_due(self, now: datetime) -> bool:
        with self._prune_lock:
            if self._pruned_at is not None and now - self._pruned_at < QUOTA_PRUNE_INTERVAL:
                return False
            self._pruned_at = now
            return True

    @staticmethod
    def _prune(connection: Connection, cutoff: datetime) -> int:
        key = tuple_(
            quota_counters.c.subject, quota_counters.c.quota, quota_counters.c.window_start
        )
        # SKIP LOCKED: processes pruning at the same time take different rows instead of waiting on each other
        # (SQLite ignores it: its writers take turns anyway).
        stale = (
            select(quota_counters.c.subject, quota_counters.c.quota, quota_counters.c.window_start)
            .where(quota_counters.c.window_start < cutoff)
            .limit(QUOTA_PRUNE_BATCH)
            .with_for_update(skip_locked=True)
        )
        return connection.execute(delete(quota_counters).where(key.in_(stale))).rowcount
