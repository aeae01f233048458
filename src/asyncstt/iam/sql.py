"""SqlIdentityStore: the identity store on the SqlStore's database (SQLite or PostgreSQL).

It shares the SqlStore's engines: reads go through `engine`, writes through `writer`, whose transactions take
SQLite's write lock at BEGIN, so a check that a folder exists and the insert that relies on it see the same
database.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection, Table, delete, exists, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from asyncstt.errors import AlreadyExists, NotFound
from asyncstt.iam.records import (
    ApiKeyRecord,
    AuditEvent,
    AuthorizedKeyRecord,
    Folder,
    RoleBinding,
    ServiceAccount,
    StorageCredentialRecord,
)
from asyncstt.store.database import dialect_insert
from asyncstt.store.schema import (
    api_keys,
    audit_log,
    authorized_keys,
    folders,
    role_bindings,
    service_accounts,
    storage_credentials,
)
from asyncstt.store.sql import SqlStore

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_Record = TypeVar("_Record", bound="DataclassInstance")


def _record(kind: type[_Record], row: RowMapping) -> _Record:
    """The record of `kind` a row holds: every record field is the column of the same name."""
    return kind(**{field.name: row[field.name] for field in fields(kind)})


def _columns(record: DataclassInstance) -> dict[str, object]:
    """The row of a record, the other way round from `_record`."""
    return {field.name: getattr(record, field.name) for field in fields(record)}


def _storage(row: RowMapping) -> StorageCredentialRecord:
    record = _record(StorageCredentialRecord, row)
    # Drivers may hand a binary column back as a memoryview.
    return replace(record, encrypted_secret=bytes(record.encrypted_secret))


def _require(connection: Connection, table: Table, key: str, what: str) -> None:
    found = connection.execute(select(exists().where(table.c.id == key))).scalar()
    if not found:
        raise NotFound(f"{what} {key} not found: create it first")


class SqlIdentityStore:
    """`IdentityStore` on a `SqlStore`'s database; closing the SqlStore closes it too."""

    def __init__(self, store: SqlStore) -> None:
        self._engine = store.engine
        self._writer = store.writer

    # Folders and service accounts

    def add_folder(self, folder: Folder) -> None:
        try:
            with self._writer.begin() as connection:
                if connection.execute(select(exists().where(folders.c.id == folder.id))).scalar():
                    raise AlreadyExists(f"folder {folder.id} exists already")
                if connection.execute(
                    select(exists().where(folders.c.name == folder.name))
                ).scalar():
                    raise AlreadyExists(
                        f"a folder named {folder.name!r} exists already: choose another name"
                    )
                connection.execute(insert(folders).values(_columns(folder)))
        except IntegrityError as exc:
            # Another PostgreSQL transaction took the id or the name after the checks.
            raise AlreadyExists(
                f"a folder with id {folder.id} or name {folder.name!r} exists already"
            ) from exc

    def get_folder(self, folder_id: str) -> Folder | None:
        with self._engine.connect() as connection:
            row = (
                connection.execute(select(folders).where(folders.c.id == folder_id))
                .mappings()
                .one_or_none()
            )
        return None if row is None else _record(Folder, row)

    def find_folder_by_name(self, name: str) -> Folder | None:
        with self._engine.connect() as connection:
            row = (
                connection.execute(select(folders).where(folders.c.name == name))
                .mappings()
                .one_or_none()
            )
        return None if row is None else _record(Folder, row)

    def list_folders(self) -> list[Folder]:
        statement = select(folders).order_by(folders.c.created_at, folders.c.id)
        with self._engine.connect() as connection:
            return [_record(Folder, row) for row in connection.execute(statement).mappings()]

    def add_service_account(self, account: ServiceAccount) -> None:
        named = service_accounts.c.folder_id == account.folder_id
        try:
            with self._writer.begin() as connection:
                _require(connection, folders, account.folder_id, "folder")
                if connection.execute(
                    select(exists().where(service_accounts.c.id == account.id))
                ).scalar():
                    raise AlreadyExists(f"service account {account.id} exists already")
                if connection.execute(
                    select(exists().where(named, service_accounts.c.name == account.name))
                ).scalar():
                    raise AlreadyExists(
                        f"folder {account.folder_id} has a service account named {account.name!r} "
                        "already: choose another name"
                    )
                connection.execute(insert(service_accounts).values(_columns(account)))
        except IntegrityError as exc:
            raise AlreadyExists(
                f"service account {account.id} or one named {account.name!r} in folder "
                f"{account.folder_id} exists already"
            ) from exc

    def get_service_account(self, account_id: str) -> ServiceAccount | None:
        with self._engine.connect() as connection:
            row = (
                connection.execute(
                    select(service_accounts).where(service_accounts.c.id == account_id)
                )
                .mappings()
                .one_or_none()
            )
        return None if row is None else _record(ServiceAccount, row)

    def list_service_accounts(self, folder_id: str | None = None) -> list[ServiceAccount]:
        statement = select(service_accounts).order_by(
            service_accounts.c.created_at, service_accounts.c.id
        )
        if folder_id is not None:
            statement = statement.where(service_accounts.c.folder_id == folder_id)
        with self._engine.connect() as connection:
            return [
                _record(ServiceAccount, row) for row in connection.execute(statement).mappings()
            ]

    # Roles

    def bind_role(self, binding: RoleBinding) -> None:
        with self._writer.begin() as connection:
            _require(connection, folders, binding.folder_id, "folder")
            _require(connection, service_accounts, binding.service_account_id, "service account")
            connection.execute(
                dialect_insert(connection, role_bindings)
                .values(_columns(binding))
                .on_conflict_do_nothing()
            )

    def unbind_role(self, folder_id: str, account_id: str, role: str) -> bool:
        statement = delete(role_bindings).where(
            role_bindings.c.folder_id == folder_id,
            role_bindings.c.service_account_id == account_id,
            role_bindings.c.role == role,
        )
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def roles_of(self, account_id: str, folder_id: str) -> frozenset[str]:
        statement = select(role_bindings.c.role).where(
            role_bindings.c.folder_id == folder_id,
            role_bindings.c.service_account_id == account_id,
        )
        with self._engine.connect() as connection:
            return frozenset(connection.execute(statement).scalars())

    def list_role_bindings(self, folder_id: str | None = None) -> list[RoleBinding]:
        statement = select(role_bindings).order_by(
            role_bindings.c.created_at,
            role_bindings.c.folder_id,
            role_bindings.c.service_account_id,
            role_bindings.c.role,
        )
        if folder_id is not None:
            statement = statement.where(role_bindings.c.folder_id == folder_id)
        with self._engine.connect() as connection:
            return [_record(RoleBinding, row) for row in connection.execute(statement).mappings()]

    # API keys

    def add_api_key(self, record: ApiKeyRecord) -> None:
        try:
            with self._writer.begin() as connection:
                _require(connection, folders, record.folder_id, "folder")
                _require(connection, service_accounts, record.service_account_id, "service account")
                connection.execute(insert(api_keys).values(_columns(record)))
        except IntegrityError as exc:
            raise AlreadyExists(f"API key {record.id} exists already") from exc

    def find_api_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._engine.connect() as connection:
            row = (
                connection.execute(select(api_keys).where(api_keys.c.id == key_id))
                .mappings()
                .one_or_none()
            )
        return None if row is None else _record(ApiKeyRecord, row)

    def list_api_keys(self, account_id: str | None = None) -> list[ApiKeyRecord]:
        statement = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if account_id is not None:
            statement = statement.where(api_keys.c.service_account_id == account_id)
        with self._engine.connect() as connection:
            return [_record(ApiKeyRecord, row) for row in connection.execute(statement).mappings()]

    def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        statement = (
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked.is_(False))
            .values(revoked=True, revoked_at=now)
        )
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def set_api_key_expiry(self, key_id: str, expires_at: datetime | None) -> bool:
        statement = update(api_keys).where(api_keys.c.id == key_id).values(expires_at=expires_at)
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    # Authorized keys

    def add_authorized_key(self, record: AuthorizedKeyRecord) -> None:
        try:
            with self._writer.begin() as connection:
                _require(connection, service_accounts, record.service_account_id, "service account")
                connection.execute(insert(authorized_keys).values(_columns(record)))
        except IntegrityError as exc:
            raise AlreadyExists(f"authorized key {record.id} exists already") from exc

    def find_authorized_key(self, key_id: str) -> AuthorizedKeyRecord | None:
        with self._engine.connect() as connection:
            row = (
                connection.execute(select(authorized_keys).where(authorized_keys.c.id == key_id))
                .mappings()
                .one_or_none()
            )
        return None if row is None else _record(AuthorizedKeyRecord, row)

    def list_authorized_keys(self, account_id: str | None = None) -> list[AuthorizedKeyRecord]:
        statement = select(authorized_keys).order_by(
            authorized_keys.c.created_at, authorized_keys.c.id
        )
        if account_id is not None:
            statement = statement.where(authorized_keys.c.service_account_id == account_id)
        with self._engine.connect() as connection:
            return [
                _record(AuthorizedKeyRecord, row)
                for row in connection.execute(statement).mappings()
            ]

    def revoke_authorized_key(self, key_id: str, now: datetime) -> bool:
        statement = (
            update(authorized_keys)
            .where(authorized_keys.c.id == key_id, authorized_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    # Storage credentials

    def set_storage_credentials(self, record: StorageCredentialRecord) -> None:
        values = {
            "endpoint_url": record.endpoint_url,
            "region": record.region,
            "access_key_id": record.access_key_id,
            "encrypted_secret": bytes(record.encrypted_secret),
            "updated_at": record.updated_at,
        }
        with self._writer.begin() as connection:
            _require(connection, folders, record.folder_id, "folder")
            connection.execute(
                dialect_insert(connection, storage_credentials)
                .values(folder_id=record.folder_id, **values)
                .on_conflict_do_update(
                    index_elements=[storage_credentials.c.folder_id], set_=values
                )
            )

    def get_storage_credentials(self, folder_id: str) -> StorageCredentialRecord | None:
        statement = select(storage_credentials).where(storage_credentials.c.folder_id == folder_id)
        with self._engine.connect() as connection:
            row = connection.execute(statement).mappings().one_or_none()
        return None if row is None else _storage(row)

    def delete_storage_credentials(self, folder_id: str) -> bool:
        statement = delete(storage_credentials).where(storage_credentials.c.folder_id == folder_id)
        with self._writer.begin() as connection:
            return connection.execute(statement).rowcount == 1

    # Audit log

    def append_audit(self, event: AuditEvent) -> None:
        with self._writer.begin() as connection:
            connection.execute(
                insert(audit_log).values(
                    at=event.at,
                    actor=event.actor,
                    action=event.action,
                    target=event.target,
                    outcome=event.outcome,
                    detail=event.detail,
                )
            )

    def prune_audit_before(self, cutoff: datetime, limit: int) -> int:
        # SKIP LOCKED: processes pruning at the same time take different rows instead of waiting on each other
        # (SQLite ignores it: its writers take turns anyway).
        oldest = (
            select(audit_log.c.id)
            .where(audit_log.c.at < cutoff)
            .order_by(audit_log.c.at, audit_log.c.id)
            .limit(max(limit, 0))
            .with_for_update(skip_locked=True)
        )
        with self._writer.begin() as connection:
            return connection.execute(delete(audit_log).where(audit_log.c.id.in_(oldest))).rowcount

    def list_audit(self, since: datetime | None = None, limit: int = 100) -> list[AuditEvent]:
        statement = (
            select(audit_log)
            .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
            .limit(max(limit, 0))
        )
        if since is not None:
            statement = statement.where(audit_log.c.at >= since)
        with self._engine.connect() as connection:
            return [_record(AuditEvent, row) for row in connection.execute(statement).mappings()]
