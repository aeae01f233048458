from __future__ import annotations

from datetime import UTC, datetime

import pytest

from asyncstt.iam.cache import MAX_ENTRIES, IdentityReadCache
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.iam.records import (
    ROLE_STT_USER,
    ApiKeyRecord,
    Folder,
    RoleBinding,
    ServiceAccount,
)
from tests.factories import ManualClock

NOW = datetime(2025, 3, 2, 10, 15, 7, tzinfo=UTC)
TTL = 5.0


class CountingStore(InMemoryIdentityStore):
    """The in-memory store, counting the reads the cache is meant to save."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        self.reads += 1
        return super().find_api_key(key_id)

    def roles_of(self, account_id: str, folder_id: str) -> frozenset[str]:
        self.reads += 1
        return super().roles_of(account_id, folder_id)


def _key(key_id: str) -> ApiKeyRecord:
    return ApiKeyRecord(key_id, "folder", "account", "hash", NOW)


@pytest.fixture
def store() -> CountingStore:
    counting = CountingStore()
    counting.add_folder(Folder("folder", "folder", NOW))
    counting.add_service_account(ServiceAccount("account", "folder", "account", NOW))
    return counting


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def test_a_key_is_read_once_until_the_time_runs_out_and_then_shows_its_revocation(
    store: CountingStore, clock: ManualClock
) -> None:
    store.add_api_key(_key("k1"))
    cache = IdentityReadCache(store, TTL, clock)
    assert cache.find_api_key("k1") == _key("k1")
    store.revoke_api_key("k1", NOW)
    clock.advance(TTL - 0.1)
    cached = cache.find_api_key("k1")
    assert cached is not None
    assert not cached.revoked
    assert store.reads == 1
    clock.advance(0.1)
    fresh = cache.find_api_key("k1")
    assert fresh is not None
    assert fresh.revoked
    assert store.reads == 2


def test_what_grants_nothing_is_read_again_so_new_keys_and_roles_work_at_once(
    store: CountingStore, clock: ManualClock
) -> None:
    cache = IdentityReadCache(store, TTL, clock)
    assert cache.find_api_key("k2") is None
    assert cache.roles_of("account", "folder") == frozenset()
    store.add_api_key(_key("k2"))
    store.bind_role(RoleBinding("folder", "account", ROLE_STT_USER, NOW))
    assert cache.find_api_key("k2") == _key("k2")
    assert cache.roles_of("account", "folder") == {ROLE_STT_USER}
    assert store.reads == 4


def test_a_removed_role_is_seen_once_the_time_runs_out(
    store: CountingStore, clock: ManualClock
) -> None:
    store.bind_role(RoleBinding("folder", "account", ROLE_STT_USER, NOW))
    cache = IdentityReadCache(store, TTL, clock)
    assert cache.roles_of("account", "folder") == {ROLE_STT_USER}
    store.unbind_role("folder", "account", ROLE_STT_USER)
    assert cache.roles_of("account", "folder") == {ROLE_STT_USER}
    assert cache.roles_of("account", "other") == frozenset()
    clock.advance(TTL)
    assert cache.roles_of("account", "folder") == frozenset()


def test_zero_seconds_reads_the_store_every_time(store: CountingStore, clock: ManualClock) -> None:
    store.add_api_key(_key("k3"))
    cache = IdentityReadCache(store, 0, clock)
    for _ in range(3):
        assert cache.find_api_key("k3") == _key("k3")
    assert store.reads == 3


def test_many_distinct_keys_do_not_grow_it_past_its_bound(
    store: CountingStore, clock: ManualClock
) -> None:
    for n in range(MAX_ENTRIES + 10):
        store.add_api_key(_key(f"k{n}"))
    cache = IdentityReadCache(store, TTL, clock)
    for n in range(MAX_ENTRIES + 10):
        clock.advance(0.0001)
        cache.find_api_key(f"k{n}")
    assert len(cache) <= MAX_ENTRIES
    reads = store.reads
    # The newest entries survive the trim; the oldest are read again.
    cache.find_api_key(f"k{MAX_ENTRIES + 9}")
    assert store.reads == reads
    cache.find_api_key("k0")
    assert store.reads == reads + 1
