"""The audit log keeps a refused request's target and detail short, however long the path a client sent, and
keeps its events only as long as their retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from asyncstt.iam.audit import (
    AUDIT_PRUNE_BATCH,
    AUDIT_PRUNE_INTERVAL,
    MAX_DETAIL_CHARS,
    MAX_TARGET_CHARS,
    Auditor,
)
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.iam.records import AuditEvent
from tests.factories import ManualClock

NOW = datetime(2025, 3, 2, 10, 15, 7, tzinfo=UTC)


def test_a_long_path_and_detail_are_cut_and_what_was_left_out_is_counted() -> None:
    store = InMemoryIdentityStore()
    auditor = Auditor(store, ManualClock(NOW))
    path = "GET /operations/" + "x" * 65_000
    auditor.record("anonymous", "request.denied", path, "unauthenticated", "y" * 5000)

    (event,) = store.list_audit()
    assert (
        event.target
        == f"{path[:MAX_TARGET_CHARS]}… ({len(path) - MAX_TARGET_CHARS} more characters)"
    )
    assert event.detail == f"{'y' * MAX_DETAIL_CHARS}… ({5000 - MAX_DETAIL_CHARS} more characters)"


def test_a_short_target_and_detail_are_kept_whole() -> None:
    store = InMemoryIdentityStore()
    Auditor(store, ManualClock(NOW)).record(
        "sa", "api_key.create", "k" * MAX_TARGET_CHARS, "ok", "d"
    )
    (event,) = store.list_audit()
    assert (event.target, event.detail) == ("k" * MAX_TARGET_CHARS, "d")


def test_events_past_their_retention_are_deleted_as_new_ones_are_written() -> None:
    store = InMemoryIdentityStore()
    clock = ManualClock(NOW)
    auditor = Auditor(store, clock, retention_days=2)
    auditor.record("cli", "folder.create", "f1", "ok")
    clock.advance(timedelta(days=1).total_seconds())
    auditor.record("cli", "folder.create", "f2", "ok")
    clock.advance(timedelta(days=1, hours=1).total_seconds())
    auditor.record("cli", "folder.create", "f3", "ok")
    assert [e.target for e in store.list_audit()] == ["f3", "f2"]


def test_pruning_runs_at_most_hourly_unless_a_backlog_is_left() -> None:
    store = InMemoryIdentityStore()
    for minute in range(AUDIT_PRUNE_BATCH + 10):
        store.append_audit(
            AuditEvent(NOW - timedelta(days=30, minutes=minute), "cli", "old", "t", "ok")
        )
    clock = ManualClock(NOW)
    auditor = Auditor(store, clock, retention_days=7)
    auditor.record("cli", "folder.create", "f1", "ok")
    assert len(store.list_audit(limit=10_000)) == 11
    auditor.record("cli", "folder.create", "f2", "ok")
    assert [e.target for e in store.list_audit()] == ["f2", "f1"]
    store.append_audit(AuditEvent(NOW - timedelta(days=30), "cli", "late", "t", "ok"))
    auditor.record("cli", "folder.create", "f3", "ok")
    assert len(store.list_audit()) == 4
    clock.advance(AUDIT_PRUNE_INTERVAL.total_seconds())
    auditor.record("cli", "folder.create", "f4", "ok")
    assert [e.target for e in store.list_audit()] == ["f4", "f3", "f2", "f1"]


def test_no_retention_keeps_every_event() -> None:
    store = InMemoryIdentityStore()
    store.append_audit(AuditEvent(NOW - timedelta(days=3650), "cli", "old", "t", "ok"))
    Auditor(store, ManualClock(NOW)).record("cli", "folder.create", "f1", "ok")
    assert len(store.list_audit()) == 2


class _FailingPrune(InMemoryIdentityStore):
    def prune_audit_before(self, cutoff: datetime, limit: int) -> int:
        raise RuntimeError("database is locked")


def test_a_failed_prune_is_logged_and_the_event_still_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _FailingPrune()
    Auditor(store, ManualClock(NOW), retention_days=1).record("cli", "folder.create", "f1", "ok")
    assert [e.target for e in store.list_audit()] == ["f1"]
    assert "deleting the audit events" in caplog.text
