"""Identity and access (folders, accounts, roles, keys, storage credentials, audit, quotas); slice checkpoints
and idempotency keys.

Existing API keys keep working: a folder and a service account holding `ai.speechkit-stt.user` are created for
every folder and account the keys name.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_STT_USER = "ai.speechkit-stt.user"


def upgrade() -> None:
    op.create_table(
        "folders",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_folders"),
        sa.UniqueConstraint("name", name="uq_folders_name"),
    )
    op.create_table(
        "service_accounts",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("folder_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folders.id"],
            name="fk_service_accounts_folder_id_folders",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_service_accounts"),
        sa.UniqueConstraint("folder_id", "name", name="uq_service_accounts_folder_id_name"),
    )
    op.create_table(
        "role_bindings",
        sa.Column("folder_id", sa.String(100), nullable=False),
        sa.Column("service_account_id", sa.String(100), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folders.id"],
            name="fk_role_bindings_folder_id_folders",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_account_id"],
            ["service_accounts.id"],
            name="fk_role_bindings_service_account_id_service_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("folder_id", "service_account_id", "role", name="pk_role_bindings"),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "authorized_keys",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("service_account_id", sa.String(100), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_account_id"],
            ["service_accounts.id"],
            name="fk_authorized_keys_service_account_id_service_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_authorized_keys"),
    )
    op.create_table(
        "storage_credentials",
        sa.Column("folder_id", sa.String(100), nullable=False),
        sa.Column("endpoint_url", sa.Text(), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("access_key_id", sa.Text(), nullable=False),
        sa.Column("encrypted_secret", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folders.id"],
            name="fk_storage_credentials_folder_id_folders",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("folder_id", name="pk_storage_credentials"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "quota_counters",
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("quota", sa.String(50), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "quota", "window_start", name="pk_quota_counters"),
    )
    op.create_table(
        "slice_results",
        sa.Column("operation_id", sa.String(50), nullable=False),
        sa.Column("plan", sa.String(64), nullable=False),
        sa.Column("slice_index", sa.Integer(), nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name="fk_slice_results_operation_id_operations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operation_id", "plan", "slice_index", name="pk_slice_results"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("folder_id", sa.String(100), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("operation_id", sa.String(50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("folder_id", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    _adopt_existing_keys()


def _adopt_existing_keys() -> None:
    """Give the folders and accounts that existing API keys name a row and the recognition role."""
    connection = op.get_bind()
    now = datetime.now(UTC)
    rows = connection.execute(
        sa.text("SELECT DISTINCT folder_id, service_account_id FROM api_keys")
    ).all()
    folders = sorted({folder_id for folder_id, _ in rows})
    for folder_id in folders:
        connection.execute(
            sa.text("INSERT INTO folders (id, name, created_at) VALUES (:id, :name, :at)"),
            {"id": folder_id, "name": folder_id, "at": now},
        )
    for folder_id, account_id in sorted(set(rows)):
        connection.execute(
            sa.text(
                "INSERT INTO service_accounts (id, folder_id, name, created_at) "
                "VALUES (:id, :folder, :name, :at)"
            ),
            {"id": account_id, "folder": folder_id, "name": account_id, "at": now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO role_bindings (folder_id, service_account_id, role, created_at) "
                "VALUES (:folder, :account, :role, :at)"
            ),
            {"folder": folder_id, "account": account_id, "role": _STT_USER, "at": now},
        )


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_table("slice_results")
    op.drop_table("quota_counters")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("storage_credentials")
    op.drop_table("authorized_keys")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("description")
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
    op.drop_table("role_bindings")
    op.drop_table("service_accounts")
    op.drop_table("folders")
