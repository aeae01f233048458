"""The audit log keeps a refused request's target and detail short, however long the path a client sent."""

from __future__ import annotations

from datetime import UTC, datetime

from asyncstt.iam.audit import MAX_DETAIL_CHARS, MAX_TARGET_CHARS, Auditor
from asyncstt.iam.memory import InMemoryIdentityStore
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
