"""Migrations build exactly the schema the code describes, and running them again changes nothing."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier as ProcessBarrier
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, inspect

from asyncstt.store.database import alembic_config, normalise_url, upgrade
from asyncstt.store.schema import metadata
from asyncstt.store.sql import SqlStore
from tests.factories import make_operation

pytestmark = pytest.mark.integration

EMPTY_URL_FIXTURES = {"sqlite": "sqlite_url", "postgresql": "empty_postgres_url"}


@pytest.fixture(params=list(EMPTY_URL_FIXTURES))
def empty_url(request: pytest.FixtureRequest) -> str:
    """A database with no tables yet, on each backend."""
    url: str = request.getfixturevalue(EMPTY_URL_FIXTURES[request.param])
    return url


@pytest.fixture
def raw(empty_url: str) -> Iterator[Engine]:
    # Created after the store's own engine would be: a SQLite directory must exist before connecting.
    Path(str(normalise_url(empty_url).database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(normalise_url(empty_url))
    yield engine
    engine.dispose()


def _schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences: list[object] = compare_metadata(context, metadata)
    return differences


def _version(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_builds_the_schema_of_the_models(empty_url: str, raw: Engine) -> None:
    assert _version(raw) is None
    upgrade(empty_url)
    assert _version(raw) == "0003"
    assert _schema_differences(raw) == []
    assert set(inspect(raw).get_table_names()) == {*metadata.tables, "alembic_version"}


def test_upgrade_twice_is_a_no_op(empty_url: str, raw: Engine) -> None:
    upgrade(empty_url)
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        upgrade(empty_url)
        SqlStore(empty_url).close()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    changes = [
        s
        for s in statements
        if s.split()[0].upper() in {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE"}
    ]
    assert statements
    assert changes == []
    assert _version(raw) == "0003"


def test_downgrade_removes_everything_and_upgrade_restores_it(empty_url: str, raw: Engine) -> None:
    upgrade(empty_url)
    with raw.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(raw).get_table_names()) == {"alembic_version"}
    upgrade(empty_url)
    assert _schema_differences(raw) == []


def test_a_store_without_migrate_leaves_the_database_alone(empty_url: str, raw: Engine) -> None:
    SqlStore(empty_url, migrate=False).close()
    assert inspect(raw).get_table_names() == []


def _upgrade_in_process(url: str, start: ProcessBarrier) -> None:
    start.wait()
    upgrade(url)


def test_processes_starting_together_migrate_once(empty_url: str, raw: Engine) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    processes = [
        context.Process(target=_upgrade_in_process, args=(empty_url, start)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=90)
    assert [process.exitcode for process in processes] == [0, 0]
    assert _version(raw) == "0003"
    assert _schema_differences(raw) == []
    store = SqlStore(empty_url, migrate=False)
    store.create(make_operation("op1"))
    assert store.get("op1") == make_operation("op1")
    store.close()
