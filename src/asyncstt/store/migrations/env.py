"""Alembic environment. asyncstt runs migrations from code (`asyncstt.store.database.upgrade`), which hands over an
open connection inside a transaction; no alembic.ini is involved."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from asyncstt.errors import Internal
from asyncstt.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise Internal(
        "run migrations with `asyncstt migrate` (asyncstt.store.database.upgrade), not the alembic command"
    )
_run(_connection)
