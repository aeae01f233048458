"""The store under test of the OperationStore contract modules (test_contract_*.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from asyncstt.store.base import OperationStore
from asyncstt.store.memory import InMemoryStore
from asyncstt.store.sql import SqlStore
from tests.support.postgres import STORE_URL_FIXTURES


@pytest.fixture(params=["memory", *STORE_URL_FIXTURES])
def store(request: pytest.FixtureRequest) -> Iterator[OperationStore]:
    """Each implementation in turn: in memory, SQLite and PostgreSQL."""
    implementation: OperationStore = (
        InMemoryStore()
        if request.param == "memory"
        else SqlStore(request.getfixturevalue(STORE_URL_FIXTURES[request.param]))
    )
    yield implementation
    implementation.close()
