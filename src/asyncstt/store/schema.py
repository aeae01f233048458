"""The store's tables, one definition for SQLite and PostgreSQL. Alembic migrations must produce exactly this."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
)

#: Constraint names are spelled out so that migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time, stored as UTC and always returned tz-aware in UTC.

    SQLite keeps datetimes as text without an offset, so values are normalised to UTC before they are written:
    comparisons in SQL (lease expiry, retention) are then plain text comparisons in the right order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(
                f"the store keeps only tz-aware datetimes, got naive {value.isoformat()}"
            )
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(naming_convention=NAMING_CONVENTION)

operations = Table(
    "operations",
    metadata,
    Column("id", String(50), primary_key=True),
    Column("folder_id", String(100), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("api", String(8), nullable=False),
    #: `RecognitionSpec.to_json()`.
    Column("spec", Text, nullable=False),
    #: `Priority` value: higher is served first.
    Column("priority", SmallInteger, nullable=False),
    Column("source_uri", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("processed_seconds", Double, nullable=False),
    Column("total_seconds", Double, nullable=False),
    Column("stage", String(32), nullable=False),
    #: zlib of `Transcript.to_json()`: a 4-hour transcript is megabytes of repetitive JSON.
    Column("result", LargeBinary, nullable=True),
    Column("error_code", Integer, nullable=True),
    Column("error_message", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("modified_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime, nullable=True),
    Column("cancel_requested", Boolean, nullable=False),
    Column("lease_owner", String(255), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False),
    Index("ix_operations_claim", "state", "priority", "created_at"),
    Index("ix_operations_done_at", "done_at"),
)

#: Audio that came inline with the request, kept only until the operation ends.
operation_audio = Table(
    "operation_audio",
    metadata,
    Column(
        "operation_id",
        String(50),
        ForeignKey("operations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("data", LargeBinary, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("folder_id", String(100), nullable=False),
    Column("service_account_id", String(100), nullable=False),
    #: Only a hash of the secret is ever stored.
    Column("secret_hash", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked", Boolean, nullable=False),
)
