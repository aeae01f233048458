"""What SqlStore does beyond the contract: how it stores values and how it sets up each database."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.exc import StatementError

from asyncstt.errors import ErrorInfo
from asyncstt.recognition import Transcript
from asyncstt.store.database import normalise_url
from asyncstt.store.schema import operation_audio, operations, slice_results
from asyncstt.store.sql import SqlStore
from tests.factories import at, make_operation, make_transcript

pytestmark = pytest.mark.integration


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    sql_store = SqlStore(store_url)
    yield sql_store
    sql_store.close()


@pytest.fixture
def raw(store_url: str) -> Iterator[Engine]:
    """A plain engine on the store's database, to look at what was written."""
    engine = create_engine(normalise_url(store_url))
    yield engine
    engine.dispose()


def test_datetimes_come_back_in_utc(store: SqlStore) -> None:
    plus_five = timezone(timedelta(hours=5))
    store.create(make_operation("op1", created_at=datetime(2026, 3, 1, 17, 0, tzinfo=plus_five)))
    store.claim("w1", 30, datetime(2026, 3, 1, 17, 0, 1, tzinfo=plus_five))
    store.finish(
        "op1", "w1", datetime(2026, 3, 1, 17, 0, 2, tzinfo=plus_five), error=ErrorInfo(1, "x")
    )
    done = store.get("op1")
    assert done is not None
    instants = [done.created_at, done.modified_at, done.done_at]
    assert [instant.tzinfo if instant else None for instant in instants] == [UTC] * 3
    assert done.done_at == datetime(2026, 3, 1, 12, 0, 2, tzinfo=UTC)


def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    with pytest.raises(StatementError, match="tz-aware"):
        store.create(make_operation("op1", created_at=datetime(2026, 3, 1, 12, 0)))
    assert store.get("op1") is None


def test_lease_expiry_compares_instants_not_local_times(store: SqlStore) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    # 10 s after the claim, written in UTC+3: the lease still runs.
    assert store.claim("w2", 30, at(10).astimezone(timezone(timedelta(hours=3)))) is None
    assert store.claim("w2", 30, at(30).astimezone(timezone(timedelta(hours=-8)))) is not None


def test_results_are_stored_compressed(store: SqlStore, raw: Engine) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    transcript = make_transcript(words_per_utterance=20, utterances=200)
    store.finish("op1", "w1", at(1), result=transcript)
    with raw.connect() as connection:
        stored = connection.execute(select(operations.c.result)).scalar_one()
    assert Transcript.from_json(zlib.decompress(stored).decode()) == transcript
    assert len(stored) * 10 < len(transcript.to_json().encode())


def test_inline_audio_rows_are_removed_when_the_operation_ends(
    store: SqlStore, raw: Engine
) -> None:
    store.create(make_operation("op1"), inline_audio=b"a" * 1000)
    store.create(make_operation("op2", created_at=at(1)), inline_audio=b"b" * 1000)
    count = select(func.count()).select_from(operation_audio)
    with raw.connect() as connection:
        assert connection.execute(count).scalar_one() == 2
    store.claim("w1", 30, at(0))
    store.finish("op1", "w1", at(1), result=Transcript())
    store.delete("op2")
    with raw.connect() as connection:
        assert connection.execute(count).scalar_one() == 0


def test_a_plain_postgresql_url_is_accepted(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    store = SqlStore(plain, migrate=False)
    store.create(make_operation("op1"))
    assert store.get("op1") == make_operation("op1")
    store.close()


def test_sqlite_store_creates_its_directory_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "store.sqlite3"
    store = SqlStore(f"sqlite:///{path}")
    store.create(make_operation("op1"))
    store.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()


def test_sqlite_writes_take_the_write_lock_up_front(sqlite_url: str) -> None:
    store = SqlStore(sqlite_url)
    store.create(make_operation("op1"))
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement if statement.startswith("BEGIN") else statement.split()[0])

    event.listen(Engine, "before_cursor_execute", record)
    try:
        store.get("op1")
        store.claim("w1", 30, at(0))
    finally:
        event.remove(Engine, "before_cursor_execute", record)
        store.close()
    # The claim reads its candidate only once it holds the write lock; a poll's read of one row, one
    # statement, needs no transaction at all.
    assert statements == ["SELECT", "BEGIN IMMEDIATE", "SELECT", "UPDATE"]


def test_a_result_read_again_is_the_same_transcript_and_another_is_its_own(store: SqlStore) -> None:
    first, second = make_transcript(3, 4), make_transcript(2, 1, "other words")
    for operation_id, result in (("op1", first), ("op2", second)):
        store.create(make_operation(operation_id))
        claim = store.claim("w1", 30, at(0))
        assert claim is not None
        assert claim.operation.id == operation_id
        assert store.finish(operation_id, "w1", at(1), result=result)

    reads = [store.get(operation_id) for operation_id in ("op1", "op2", "op1", "op2")]

    assert [read.result if read else None for read in reads] == [first, second, first, second]


def test_saved_slices_go_with_a_purged_operation(store: SqlStore, raw: Engine) -> None:
    store.create(make_operation("op1"))
    store.claim("w1", 30, at(0))
    store.save_slice("op1", "w1", "plan", 0, b"slice", at(1))
    store.save_slice("op1", "w1", "plan", 1, b"slice", at(1))
    # Ended by another path than finish (a crash between writes leaves them): the purge still takes them.
    with raw.begin() as connection:
        connection.execute(operations.update().values(state="FAILED", done_at=at(2)))
    assert store.purge_finished_before(at(3)) == ["op1"]
    with raw.connect() as connection:
        assert connection.execute(select(func.count()).select_from(slice_results)).scalar() == 0
