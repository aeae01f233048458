"""Migration 0002 keeps existing API keys working: their folders and accounts get rows and the recognition role."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, create_engine

from asyncstt.iam.records import ROLE_STT_USER, ApiKeyRecord
from asyncstt.iam.sql import SqlIdentityStore
from asyncstt.store.database import alembic_config, normalise_url
from asyncstt.store.schema import UtcDateTime
from asyncstt.store.sql import SqlStore
from tests.factories import at

pytestmark = pytest.mark.integration

EMPTY_URL_FIXTURES = {"sqlite": "sqlite_url", "postgresql": "empty_postgres_url"}

#: `api_keys` as revision 0001 left it, written the way the store of that time wrote it.
OLD_API_KEYS = sa.table(
    "api_keys",
    sa.column("id", sa.String),
    sa.column("folder_id", sa.String),
    sa.column("service_account_id", sa.String),
    sa.column("secret_hash", sa.Text),
    sa.column("created_at", UtcDateTime),
    sa.column("revoked", sa.Boolean),
)
OLD_KEYS = [
    ("aje-a1", "folder-a", "sa-a", False),
    ("aje-a2", "folder-a", "sa-a", True),
    ("aje-b1", "folder-b", "sa-b", False),
]


@pytest.fixture(params=list(EMPTY_URL_FIXTURES))
def empty_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(EMPTY_URL_FIXTURES[request.param])
    return url


@pytest.fixture
def raw(empty_url: str) -> Iterator[Engine]:
    Path(str(normalise_url(empty_url).database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(normalise_url(empty_url))
    yield engine
    engine.dispose()


def test_existing_api_keys_get_folders_accounts_and_the_recognition_role(
    empty_url: str, raw: Engine
) -> None:
    with raw.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.execute(
            sa.insert(OLD_API_KEYS),
            [
                {
                    "id": key_id,
                    "folder_id": folder_id,
                    "service_account_id": account_id,
                    "secret_hash": f"hash-of-{key_id}",
                    "created_at": at(index),
                    "revoked": revoked,
                }
                for index, (key_id, folder_id, account_id, revoked) in enumerate(OLD_KEYS)
            ],
        )
    before = datetime.now(UTC)
    store = SqlStore(empty_url)
    identity = SqlIdentityStore(store)
    try:
        folders = identity.list_folders()
        assert [(f.id, f.name) for f in folders] == [
            ("folder-a", "folder-a"),
            ("folder-b", "folder-b"),
        ]
        accounts = identity.list_service_accounts()
        assert [(a.id, a.folder_id, a.name) for a in accounts] == [
            ("sa-a", "folder-a", "sa-a"),
            ("sa-b", "folder-b", "sa-b"),
        ]
        for created in [f.created_at for f in folders] + [a.created_at for a in accounts]:
            assert created.tzinfo == UTC
            assert before - timedelta(minutes=5) <= created <= datetime.now(UTC)
        assert identity.roles_of("sa-a", "folder-a") == frozenset({ROLE_STT_USER})
        assert identity.roles_of("sa-b", "folder-b") == frozenset({ROLE_STT_USER})
        assert identity.roles_of("sa-a", "folder-b") == frozenset()
        assert [(b.folder_id, b.service_account_id) for b in identity.list_role_bindings()] == [
            ("folder-a", "sa-a"),
            ("folder-b", "sa-b"),
        ]
        for index, (key_id, folder_id, account_id, revoked) in enumerate(OLD_KEYS):
            assert identity.find_api_key(key_id) == ApiKeyRecord(
                id=key_id,
                folder_id=folder_id,
                service_account_id=account_id,
                secret_hash=f"hash-of-{key_id}",
                created_at=at(index),
                revoked=revoked,
            )
    finally:
        store.close()
