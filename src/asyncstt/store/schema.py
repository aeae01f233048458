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
    UniqueConstraint,
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

folders = Table(
    "folders",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

service_accounts = Table(
    "service_accounts",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("folder_id", String(100), ForeignKey("folders.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("folder_id", "name"),
)

#: A role held by a service account on a folder (its own or another).
role_bindings = Table(
    "role_bindings",
    metadata,
    Column(
        "folder_id", String(100), ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "service_account_id",
        String(100),
        ForeignKey("service_accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("role", String(100), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
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
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("description", Text, nullable=False, server_default=""),
)

#: RSA public keys of service accounts, for the JWT → IAM token exchange. Private keys are never stored.
authorized_keys = Table(
    "authorized_keys",
    metadata,
    Column("id", String(100), primary_key=True),
    Column(
        "service_account_id",
        String(100),
        ForeignKey("service_accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("public_key_pem", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

#: Object-storage credentials of a folder; the secret is encrypted with the server key.
storage_credentials = Table(
    "storage_credentials",
    metadata,
    Column(
        "folder_id", String(100), ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("endpoint_url", Text, nullable=False),
    Column("region", String(100), nullable=False),
    Column("access_key_id", Text, nullable=False),
    Column("encrypted_secret", LargeBinary, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Every credential change and every denied request; never a secret.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    #: Who: a service account id, `cli` for the admin command, or `anonymous`.
    Column("actor", String(200), nullable=False),
    #: What, e.g. `api_key.create`, `request.denied`.
    Column("action", String(100), nullable=False),
    Column("target", Text, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_audit_log_at", "at"),
)

#: Fixed-window request counters; one row per subject, quota and window, updated atomically.
quota_counters = Table(
    "quota_counters",
    metadata,
    Column("subject", String(200), primary_key=True),
    Column("quota", String(50), primary_key=True),
    Column("window_start", UtcDateTime, primary_key=True),
    Column("count", Integer, nullable=False),
)

#: A finished slice of a running operation, so that a re-claimed operation does not recognise it again.
slice_results = Table(
    "slice_results",
    metadata,
    Column(
        "operation_id",
        String(50),
        ForeignKey("operations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    #: Identifies the slicing plan (audio facts + cut points): results of another plan are not reused.
    Column("plan", String(64), primary_key=True),
    Column("slice_index", Integer, primary_key=True),
    #: zlib of the slice result's JSON.
    Column("result", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

#: `Idempotency-Key` of a submit: the same key and body within the window return the same operation.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("folder_id", String(100), primary_key=True),
    Column("key", String(255), primary_key=True),
    #: SHA-256 of the request body: the same key with another body is refused.
    Column("request_hash", String(64), nullable=False),
    Column("operation_id", String(50), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

#: A folder's webhook: the URL its finished operations are announced to. The signing secret must be readable to
#: sign with, so it cannot be hashed; it is encrypted with the server key as storage secrets are.
webhooks = Table(
    "webhooks",
    metadata,
    Column("folder_id", String(100), primary_key=True),
    Column("url", Text, nullable=False),
    Column("encrypted_secret", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

#: The webhook outbox: one row per operation that ended in a folder with a webhook, written in the transaction
#: that ended it. Removing the webhook removes its rows.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("operation_id", String(50), nullable=False),
    Column(
        "folder_id",
        String(100),
        ForeignKey("webhooks.folder_id", ondelete="CASCADE"),
        nullable=False,
    ),
    #: The JSON POSTed: the operation's id, `done` and its error, never its result.
    Column("body", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    #: When the next attempt is due; while an attempt is under way, when its lease runs out. None once the row
    #: was delivered or given up.
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("failed_at", UtcDateTime, nullable=True),
    Index("ix_webhook_deliveries_next_attempt_at", "next_attempt_at"),
)
