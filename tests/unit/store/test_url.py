"""Which database URLs the store accepts, and how it connects to them."""

from __future__ import annotations

import pytest

from asyncstt.errors import InvalidArgument
from asyncstt.store.database import normalise_url


@pytest.mark.parametrize(
    ("given", "driver", "database"),
    [
        ("postgresql://app:secret@db.internal:5432/asyncstt", "postgresql+psycopg", "asyncstt"),
        ("postgres://app@db.internal/asyncstt", "postgresql+psycopg", "asyncstt"),
        ("postgresql+psycopg://app@db.internal/asyncstt", "postgresql+psycopg", "asyncstt"),
        ("sqlite:////var/lib/asyncstt/store.sqlite3", "sqlite", "/var/lib/asyncstt/store.sqlite3"),
        ("sqlite:///relative/store.sqlite3", "sqlite", "relative/store.sqlite3"),
    ],
)
def test_accepted_urls(given: str, driver: str, database: str) -> None:
    url = normalise_url(given)
    assert (url.drivername, url.database) == (driver, database)


def test_credentials_and_host_are_kept() -> None:
    url = normalise_url("postgresql://app:s3cr%40t@db.internal:6432/asyncstt?sslmode=require")
    assert (url.username, url.password, url.host, url.port) == (
        "app",
        "s3cr@t",
        "db.internal",
        6432,
    )
    assert url.query == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("mysql://app@db/asyncstt", "unsupported database 'mysql'"),
        ("sqlite://", "not an in-memory database"),
        ("sqlite:///:memory:", "not an in-memory database"),
        ("not a url", "cannot parse the database URL"),
    ],
)
def test_refused_urls_say_what_to_use(given: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message) as refused:
        normalise_url(given)
    assert "sqlite:///path/to/file" in str(refused.value)
