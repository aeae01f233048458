"""Timestamps are kept as UTC instants whatever offset they come with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Dialect

from asyncstt.store.schema import UtcDateTime, metadata

# Built from a URL only, which connects to nothing: the PostgreSQL dialect class itself is untyped.
POSTGRESQL: Dialect = create_engine("postgresql+psycopg://").dialect
DIALECTS: list[Dialect] = [SQLiteDialect_pysqlite(), POSTGRESQL]


@pytest.mark.parametrize("dialect", DIALECTS, ids=["sqlite", "postgresql"])
def test_written_instants_are_utc(dialect: Dialect) -> None:
    moscow = datetime(2026, 3, 1, 15, 30, tzinfo=timezone(timedelta(hours=3)))
    written = UtcDateTime().process_bind_param(moscow, dialect)
    assert written == moscow
    assert written is not None
    assert written.tzinfo is UTC
    assert written.hour == 12


@pytest.mark.parametrize("dialect", DIALECTS, ids=["sqlite", "postgresql"])
def test_naive_datetimes_are_refused(dialect: Dialect) -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        UtcDateTime().process_bind_param(datetime(2026, 3, 1, 12, 0), dialect)


def test_read_instants_are_utc() -> None:
    column = UtcDateTime()
    # SQLite hands back the stored UTC text as a naive datetime.
    assert column.process_result_value(
        datetime(2026, 3, 1, 12, 0), SQLiteDialect_pysqlite()
    ) == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    # PostgreSQL answers in the session's time zone.
    read = column.process_result_value(
        datetime(2026, 3, 1, 4, 0, tzinfo=timezone(timedelta(hours=-8))), POSTGRESQL
    )
    assert read is not None
    assert (read.tzinfo, read.hour) == (UTC, 12)
    assert column.process_result_value(None, SQLiteDialect_pysqlite()) is None


def test_claim_and_purge_queries_have_indexes() -> None:
    indexes = {
        index.name: [column.name for column in index.columns]
        for index in metadata.tables["operations"].indexes
    }
    assert indexes == {
        "ix_operations_claim": ["state", "priority", "created_at"],
        "ix_operations_done_at": ["done_at"],
    }
