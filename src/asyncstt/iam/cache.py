"""What an API process remembers of API keys, the accounts of IAM tokens and role bindings between requests.

Every request is authenticated and authorised; reading the key (or a token's account) and the caller's roles
from the store each time costs two of a poll's SQL round trips. Only what grants access is kept (a key or an
account that was found, a non-empty set of roles), for a few seconds: a new key or a new role works at once,
while a revoked key, a deleted account or a removed role stops working on every API process within
`ttl_seconds`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar

from asyncstt.clock import utcnow
from asyncstt.iam.records import ApiKeyRecord, ServiceAccount
from asyncstt.iam.store import IdentityStore

#: Entries kept at most; past it the oldest half is dropped, so a flood of distinct keys cannot grow memory.
MAX_ENTRIES = 10_000

_V = TypeVar("_V")


class IdentityReadCache:
    """The request path's reads of the identity store, each answer that grants access kept `ttl_seconds`."""

    def __init__(
        self,
        identity: IdentityStore,
        ttl_seconds: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._identity = identity
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, object]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        return self._read(("key", key_id), lambda: self._identity.find_api_key(key_id))

    def service_account(self, account_id: str) -> ServiceAccount | None:
        return self._read(
            ("account", account_id), lambda: self._identity.get_service_account(account_id)
        )

    def roles_of(self, account_id: str, folder_id: str) -> frozenset[str]:
        return self._read(
            ("roles", account_id, folder_id),
            lambda: self._identity.roles_of(account_id, folder_id),
        )

    def _read(self, key: Hashable, load: Callable[[], _V]) -> _V:
        if self._ttl <= 0:
            return load()
        now = self._clock().timestamp()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self._ttl:
            value: _V = entry[1]  # type: ignore[assignment]
            return value
        value = load()
        if value:
            self._remember(key, now, value)
        return value

    def _remember(self, key: Hashable, at: float, value: object) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                oldest = sorted(self._entries.items(), key=lambda item: item[1][0])
                for stale, _ in oldest[: MAX_ENTRIES // 2]:
                    del self._entries[stale]
            self._entries[key] = (at, value)
