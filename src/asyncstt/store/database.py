"""The SQL engine under the stores: store URLs, SQLite's connection settings and transactions, and migrations.

On SQLite, every transaction starts with an explicit BEGIN (the sqlite3 module would skip it before SELECT and DDL),
and transactions that write start with `BEGIN IMMEDIATE`, taking the write lock before they read; a read of one
statement (`single_reader_of`) takes none, as one statement sees one snapshot anyway. On PostgreSQL,
processes that start together migrate one after the other under an advisory lock.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from asyncstt.errors import InvalidArgument

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: How long a SQLite writer waits for another one to finish before giving up, in seconds.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
#: Key of the PostgreSQL advisory lock that serialises migrations of processes starting together.
MIGRATION_LOCK_KEY = 0x61737974_74000001
#: Execution options read by the SQLite `begin` hook.
_IMMEDIATE = "asyncstt_begin_immediate"
_SINGLE_STATEMENT = "asyncstt_single_statement"


def normalise_url(url: str) -> URL:
    """The SQLAlchemy URL to connect with: plain `postgresql://` (and `postgres://`) goes through psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidArgument(
            # The URL is left out of the message: it may hold a password.
            "cannot parse the database URL: expected sqlite:///path/to/file or "
            "postgresql://user@host:port/database"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InvalidArgument(
            f"unsupported database {backend!r} in the database URL: use sqlite:///path/to/file or "
            "postgresql://user@host:port/database"
        )
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise InvalidArgument(
            "the store needs a SQLite file, not an in-memory database: use sqlite:///path/to/file"
        )
    return parsed


def create_store_engine(url: str) -> Engine:
    """An engine set up for the store; creates the directory of a SQLite file when it is missing."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    Path(str(parsed.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
    # The sqlite3 module's own transaction handling would skip BEGIN before SELECT and DDL; SQLAlchemy's `begin`
    # hook below emits every BEGIN instead, so reads are isolated and writers can ask for IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    _use_wal(cursor)
    # FULL makes every commit survive a power cut.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode, which lets readers go on while one writer commits.

    The mode is kept in the file, so only a new database needs the switch. The switch fails at once, without
    the busy timeout, while another process holds a write lock: two processes opening a new database
    together see that, and the one that lost retries until the winner's switch shows.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def _sqlite_begin(connection: Connection) -> None:
    options = connection.get_execution_options()
    if options.get(_IMMEDIATE, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif not options.get(_SINGLE_STATEMENT, False):
        connection.exec_driver_sql("BEGIN")


def alembic_config(connection: Connection) -> Config:
    """Alembic configuration for migrating the database behind `connection`; no alembic.ini needed."""
    config = Config()
    # Config values go through configparser interpolation.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def writer_of(engine: Engine) -> Engine:
    """`engine` for transactions that write: on SQLite they take the write lock at BEGIN (`BEGIN IMMEDIATE`)."""
    return engine.execution_options(**{_IMMEDIATE: True})


def single_reader_of(engine: Engine) -> Engine:
    """`engine` for reads of one statement, which need no transaction of their own.

    SQLite runs a statement outside a transaction in autocommit mode, reading one snapshot of a WAL database
    from its start to its end, so the BEGIN and the COMMIT around it (a third of the cost of reading a row)
    would buy nothing. PostgreSQL opens its transaction with the statement, as before.
    """
    return engine.execution_options(**{_SINGLE_STATEMENT: True})


def migrate_engine(engine: Engine) -> None:
    """Bring the database behind `engine` to the newest schema; processes starting together migrate once."""
    with writer_of(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            # Held to the end of the transaction: a second process waits, then finds the schema at head.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        command.upgrade(alembic_config(connection), "head")


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema; does nothing when it is there already."""
    engine = create_store_engine(url)
    try:
        migrate_engine(engine)
    finally:
        engine.dispose()


def dialect_insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` in the dialect of `connection`'s database, which knows ON CONFLICT."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
