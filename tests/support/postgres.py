"""A real PostgreSQL server for the test session, and store URLs for SQLite and PostgreSQL.

The server starts the first time a test asks for it and stops at the end of the session. Each test gets its own
database, cloned in milliseconds from a migrated template (`CREATE DATABASE … TEMPLATE`), and dropped after it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from asyncstt.server.process import free_port
from asyncstt.store.database import upgrade

POSTGRES_ROOT = Path("/usr/lib/postgresql")
TEMPLATE_DATABASE = "asyncstt_template"
#: Fixture that gives a fresh store URL, by backend name.
STORE_URL_FIXTURES = {"sqlite": "sqlite_url", "postgresql": "postgres_url"}


def _bin_dir() -> Path:
    candidates = sorted(POSTGRES_ROOT.glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not candidates:
        pytest.fail(
            f"PostgreSQL server binaries not found under {POSTGRES_ROOT}/<version>/bin: "
            "run `apt-get install postgresql` (CI installs it); these tests never skip",
            pytrace=False,
        )
    return candidates[-1].parent


def _as_postgres(*args: str) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


def _run(*args: str) -> None:
    completed = subprocess.run(_as_postgres(*args), capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")


@dataclass(frozen=True)
class PostgresServer:
    """A running server that trusts local connections as the `postgres` superuser."""

    port: int
    data_dir: Path

    @property
    def base_url(self) -> str:
        """SQLAlchemy URL of the server, without a database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def url(self, database: str) -> str:
        return f"{self.base_url}/{database}"

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit connection to the `postgres` database, for administration."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def create_database(self, template: str | None = None) -> str:
        """Create a database with a fresh name, empty or cloned from `template`; returns its name."""
        name = f"t_{secrets.token_hex(6)}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        with self.connect() as connection:
            if template is not None:
                statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
                # A file copy clones a small database about three times faster than the WAL_LOG default.
                if connection.info.server_version >= 150000:
                    statement = sql.SQL("{} STRATEGY FILE_COPY").format(statement)
            connection.execute(statement)
        return name

    def drop_database(self, name: str) -> None:
        # FORCE: a test that failed half-way may have left connections open.
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with self.connect() as connection:
            connection.execute(statement)


def _start(bin_dir: Path, data_dir: Path) -> PostgresServer:
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres", "postgres")
    pgdata = data_dir / "data"
    _run(str(bin_dir / "initdb"), "-D", str(pgdata), "-A", "trust", "-U", "postgres", "--no-sync")
    port = free_port()
    options = f"-p {port} -k {data_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    # -l: without a log file the server would hold our stdout pipe open and the call would never return.
    _run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(pgdata),
        "-l",
        str(data_dir / "server.log"),
        "-o",
        options,
        "-w",
        "start",
    )
    return PostgresServer(port=port, data_dir=pgdata)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server running for the whole session."""
    bin_dir = _bin_dir()
    # Not under pytest's tmp dir: that one is private to root and the server runs as `postgres`.
    data_dir = Path(tempfile.mkdtemp(prefix="asyncstt-pg-"))
    try:
        server = _start(bin_dir, data_dir)
        try:
            yield server
        finally:
            _run(
                str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-m", "immediate", "-w", "stop"
            )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """Name of a database migrated to the newest schema, to clone from."""
    with postgres_server.connect() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_DATABASE)))
    upgrade(postgres_server.url(TEMPLATE_DATABASE))
    return TEMPLATE_DATABASE


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """URL of a fresh, migrated database of this test's own."""
    name = postgres_server.create_database(template=postgres_template)
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture
def empty_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh database with no tables at all."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'store' / 'asyncstt.sqlite3'}"


@pytest.fixture(params=list(STORE_URL_FIXTURES))
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh store URL, once for SQLite and once for PostgreSQL; SQLite's is not migrated yet."""
    url: str = request.getfixturevalue(STORE_URL_FIXTURES[request.param])
    return url
