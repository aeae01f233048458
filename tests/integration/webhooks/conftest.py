"""The store under test of the webhook outbox: in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from asyncstt.store.memory import InMemoryStore
from asyncstt.store.sql import SqlStore
from tests.support.postgres import STORE_URL_FIXTURES


@pytest.fixture(params=["memory", *STORE_URL_FIXTURES])
def store(request: pytest.FixtureRequest) -> Iterator[InMemoryStore | SqlStore]:
    implementation = (
        InMemoryStore()
        if request.param == "memory"
        else SqlStore(request.getfixturevalue(STORE_URL_FIXTURES[request.param]))
    )
    yield implementation
    implementation.close()
