"""Retention: finished operations past it go with their cached audio; idempotency keys past their window too."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from asyncstt.dispatch.sweeper import Sweeper
from asyncstt.errors import Cancelled, InvalidArgument
from asyncstt.operation import Idempotency, Operation
from asyncstt.settings import ExecutionSettings, Settings
from asyncstt.store.memory import InMemoryStore
from tests.factories import T0, ManualClock, at, make_operation
from tests.unit.dispatch.conftest import Ticks

DAY = 24 * 3600.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", execution=ExecutionSettings(sweep_interval_seconds=600)
    )


def finished(
    store: InMemoryStore, operation_id: str, when: datetime, key: Idempotency | None = None
) -> Operation:
    operation = store.create(make_operation(operation_id, created_at=when), idempotency=key)
    assert store.finish(operation_id, None, when, error=Cancelled().to_info())
    return operation


def cached(settings: Settings, operation_id: str) -> Path:
    directory = settings.cache_dir / operation_id
    directory.mkdir(parents=True)
    (directory / "audio").write_bytes(b"audio")
    return directory


def test_operations_past_their_retention_are_purged_with_their_cache(settings: Settings) -> None:
    store = InMemoryStore()
    retention = settings.limits.retention_seconds
    finished(store, "expired", at(-retention - 1))
    finished(store, "young", at(-retention + 60))
    store.create(make_operation("queued-long-ago", created_at=at(-10 * retention)))
    expired_cache = cached(settings, "expired")
    young_cache = cached(settings, "young")
    sweeper = Sweeper(store, settings, ManualClock(T0))
    assert sweeper.sweep() == ["expired"]
    assert store.get("expired") is None
    assert not expired_cache.exists()
    assert store.get("young") is not None
    assert store.get("queued-long-ago") is not None
    assert (young_cache / "audio").read_bytes() == b"audio"


def test_idempotency_keys_past_their_window_are_forgotten(settings: Settings) -> None:
    store = InMemoryStore()
    window = settings.execution.idempotency_window_seconds
    finished(store, "old", at(-window - 1), Idempotency("old-key", "a"))
    finished(store, "new", at(-window + 60), Idempotency("new-key", "a"))
    Sweeper(store, settings, ManualClock(T0)).sweep()
    # A forgotten key may name another request; a remembered one may not.
    again = make_operation("again", created_at=T0)
    assert store.create(again, idempotency=Idempotency("old-key", "b")) == again
    with pytest.raises(InvalidArgument):
        store.create(
            make_operation("reused", created_at=T0), idempotency=Idempotency("new-key", "b")
        )


def test_the_sweep_runs_at_once_and_then_once_every_interval(settings: Settings) -> None:
    store = InMemoryStore()
    clock = ManualClock(T0)
    ticks = Ticks()
    retention = settings.limits.retention_seconds
    sweeper = Sweeper(store, settings, clock, ticks)
    finished(store, "first", at(-retention - 1))
    sweeper.sweep_if_due()
    assert store.get("first") is None
    finished(store, "second", at(-retention - 1))
    ticks.advance(599)
    sweeper.sweep_if_due()
    assert store.get("second") is not None
    ticks.advance(1)
    sweeper.sweep_if_due()
    assert store.get("second") is None
