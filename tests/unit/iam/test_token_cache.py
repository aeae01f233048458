"""A process checks an IAM token's signature once and reads its account through the key and role cache."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from asyncstt.errors import Unauthenticated
from asyncstt.iam.audit import Auditor
from asyncstt.iam.auth import Authenticator
from asyncstt.iam.memory import InMemoryIdentityStore
from asyncstt.iam.records import Folder, ServiceAccount
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.tokens import TokenService
from asyncstt.settings import IamSettings
from tests.factories import ManualClock

NOW = datetime(2025, 3, 2, 10, 0, tzinfo=UTC)
ACCOUNT = "ajetokencache"


class CountingServerKey(ServerKey):
    """The real server key, counting the signatures it checks."""

    checked = 0

    def verify(self, payload: bytes, signature: bytes) -> bool:
        self.checked += 1
        return super().verify(payload, signature)


class CountingIdentity(InMemoryIdentityStore):
    """The in-memory identity store, counting the accounts it is asked for."""

    reads = 0

    def get_service_account(self, account_id: str) -> ServiceAccount | None:
        self.reads += 1
        return super().get_service_account(account_id)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def identity() -> CountingIdentity:
    store = CountingIdentity()
    store.add_folder(Folder("b1gfolder", "team", NOW))
    store.add_service_account(ServiceAccount(ACCOUNT, "b1gfolder", "robot", NOW))
    return store


@pytest.fixture
def key() -> CountingServerKey:
    return CountingServerKey(b"0123456789abcdef0123")


def test_a_token_is_checked_once_and_still_expires(
    identity: CountingIdentity, key: CountingServerKey, clock: ManualClock
) -> None:
    tokens = TokenService(identity, key, IamSettings(token_ttl_seconds=60), clock)
    token = tokens.issue(ACCOUNT).iam_token
    for _ in range(5):
        assert tokens.verify(token).id == ACCOUNT
    assert key.checked == 1
    # Without a cache of its own the store is asked every time, so a deleted account stops at once.
    assert identity.reads == 5
    clock.advance(60)
    with pytest.raises(Unauthenticated, match="has expired"):
        tokens.verify(token)


def test_a_forged_token_is_never_remembered(
    identity: CountingIdentity, key: CountingServerKey, clock: ManualClock
) -> None:
    tokens = TokenService(identity, key, IamSettings(), clock)
    prefix, payload, signature = tokens.issue(ACCOUNT).iam_token.split(".")
    forged = f"{prefix}.{payload}.{signature[:-3]}AAA"
    for _ in range(3):
        with pytest.raises(Unauthenticated, match=r"^the IAM token is invalid$"):
            tokens.verify(forged)
    assert key.checked == 3


def test_the_authenticator_reads_a_tokens_account_once_per_cache_period(
    identity: CountingIdentity, key: CountingServerKey, clock: ManualClock
) -> None:
    settings = IamSettings(cache_seconds=5)
    tokens = TokenService(identity, key, settings, clock)
    auth = Authenticator(identity, tokens, settings, Auditor(identity, clock), clock=clock)
    header = f"Bearer {tokens.issue(ACCOUNT).iam_token}"
    for _ in range(10):
        assert auth.authenticate(header).service_account_id == ACCOUNT
    assert (key.checked, identity.reads) == (1, 1)
    clock.advance(5)
    auth.authenticate(header)
    assert (key.checked, identity.reads) == (1, 2)
