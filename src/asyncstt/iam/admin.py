"""Identity administration: folders, service accounts, roles, API keys, authorized keys and storage credentials.

What the `asyncstt folders|accounts|roles|keys|storage` commands do. Folders and accounts may be named by id
or by name. Every change is written to the audit log; secrets never are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from asyncstt.clock import utcnow
from asyncstt.errors import AlreadyExists, InvalidArgument, NotFound
from asyncstt.iam.api_keys import create_api_key
from asyncstt.iam.audit import CLI_ACTOR, Auditor
from asyncstt.iam.records import (
    ROLE_STT_USER,
    ROLES,
    ApiKeyRecord,
    AuditEvent,
    AuthorizedKeyRecord,
    Folder,
    RoleBinding,
    ServiceAccount,
    StorageCredentialRecord,
)
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.store import IdentityStore
from asyncstt.ids import new_instance_id

#: Prefixes of generated ids, as the public service's ids look.
FOLDER_PREFIX = "b1g"
ACCOUNT_PREFIX = "aje"
AUTHORIZED_KEY_PREFIX = "aje"
#: How long a rotated API key keeps working, so that clients can switch to the new one without downtime.
DEFAULT_ROTATION_GRACE = timedelta(hours=1)
#: The algorithm named in authorized-key files, as `yc iam key create` writes them.
KEY_ALGORITHM = "RSA_2048"
_RSA_BITS = 2048
_MAX_NAME = 200


class IdentityAdmin:
    def __init__(
        self,
        identity: IdentityStore,
        server_key: ServerKey,
        auditor: Auditor,
        actor: str = CLI_ACTOR,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._identity = identity
        self._server_key = server_key
        self._auditor = auditor
        self._actor = actor
        self._clock = clock

    # folders and service accounts

    def create_folder(self, name: str) -> Folder:
        name = _name(name, "folder")
        if self._identity.find_folder_by_name(name) is not None:
            raise AlreadyExists(f"a folder named {name!r} exists already")
        folder = Folder(new_instance_id(FOLDER_PREFIX), name, self._clock())
        self._identity.add_folder(folder)
        self._audit("folder.create", folder.id, f"name={name}")
        return folder

    def list_folders(self) -> list[Folder]:
        return self._identity.list_folders()

    def create_service_account(self, folder: str, name: str) -> ServiceAccount:
        """A service account in `folder` (id or name); it holds no role until one is bound."""
        home = self.folder(folder)
        name = _name(name, "service account")
        if any(a.name == name for a in self._identity.list_service_accounts(home.id)):
            raise AlreadyExists(
                f"folder {home.name} ({home.id}) has a service account named {name!r} already"
            )
        account = ServiceAccount(new_instance_id(ACCOUNT_PREFIX), home.id, name, self._clock())
        self._identity.add_service_account(account)
        self._audit("service_account.create", account.id, f"folder={home.id} name={name}")
        return account

    def list_service_accounts(self, folder: str | None = None) -> list[ServiceAccount]:
        folder_id = self.folder(folder).id if folder is not None else None
        return self._identity.list_service_accounts(folder_id)

    def folder(self, ref: str) -> Folder:
        """The folder with id or name `ref`."""
        found = self._identity.get_folder(ref) or self._identity.find_folder_by_name(ref)
        if found is None:
            raise NotFound(
                f"folder {ref!r} not found (by id or name); `asyncstt folders list` shows them"
            )
        return found

    def account(self, ref: str) -> ServiceAccount:
        """The service account with id `ref`, else the one account named `ref`."""
        found = self._identity.get_service_account(ref)
        if found is not None:
            return found
        named = [a for a in self._identity.list_service_accounts() if a.name == ref]
        if not named:
            raise NotFound(
                f"service account {ref!r} not found (by id or name); `asyncstt accounts list` shows them"
            )
        if len(named) > 1:
            ids = ", ".join(a.id for a in named)
            raise InvalidArgument(
                f"several service accounts are named {ref!r} ({ids}); name one by its id"
            )
        return named[0]

    def bootstrap(self, folder_name: str, account_name: str) -> tuple[Folder, ServiceAccount]:
        """The folder and account of these names (or ids), created when missing, the account holding the
        recognition role on the folder: what a first run needs to get a working key in one step."""
        try:
            folder = self.folder(folder_name)
        except NotFound:
            folder = self.create_folder(folder_name)
        account = next(
            (
                a
                for a in self._identity.list_service_accounts(folder.id)
                if account_name in (a.id, a.name)
            ),
            None,
        )
        if account is None:
            existing = self._identity.get_service_account(account_name)
            if existing is not None:
                raise InvalidArgument(
                    f"service account {account_name} belongs to folder {existing.folder_id}, "
                    f"not {folder.name} ({folder.id})"
                )
            account = self.create_service_account(folder.id, account_name)
        if ROLE_STT_USER not in self._identity.roles_of(account.id, folder.id):
            self.bind_role(account.id, folder.id, ROLE_STT_USER)
        return folder, account

    # roles

    def bind_role(self, account: str, folder: str, role: str) -> RoleBinding:
        _check_role(role)
        holder = self.account(account)
        where = self.folder(folder)
        binding = RoleBinding(where.id, holder.id, role, self._clock())
        self._identity.bind_role(binding)
        self._audit("role.bind", holder.id, f"folder={where.id} role={role}")
        return binding

    def unbind_role(self, account: str, folder: str, role: str) -> None:
        _check_role(role)
        holder = self.account(account)
        where = self.folder(folder)
        if not self._identity.unbind_role(where.id, holder.id, role):
            raise NotFound(
                f"service account {holder.id} holds no role {role} on folder {where.name} ({where.id})"
            )
        self._audit("role.unbind", holder.id, f"folder={where.id} role={role}")

    def list_roles(self, folder: str | None = None) -> list[RoleBinding]:
        folder_id = self.folder(folder).id if folder is not None else None
        return self._identity.list_role_bindings(folder_id)

    # API keys

    def create_api_key(
        self, account: str, expires_in: timedelta | None = None, description: str = ""
    ) -> tuple[ApiKeyRecord, str]:
        """A new key of `account`; returns the record and the key, which is shown only this once."""
        if expires_in is not None and expires_in <= timedelta(0):
            raise InvalidArgument("an API key's lifetime must be positive")
        holder = self.account(account)
        now = self._clock()
        expires_at = now + expires_in if expires_in is not None else None
        record, key = create_api_key(
            self._identity, holder.folder_id, holder.id, now, expires_at, description
        )
        self._audit("api_key.create", record.id, _key_detail(record))
        return record, key

    def list_api_keys(self, account: str | None = None) -> list[ApiKeyRecord]:
        account_id = self.account(account).id if account is not None else None
        return self._identity.list_api_keys(account_id)

    def revoke_api_key(self, key_id: str) -> ApiKeyRecord:
        record = self._api_key(key_id)
        if record.revoked or not self._identity.revoke_api_key(key_id, self._clock()):
            raise InvalidArgument(f"API key {key_id} is revoked already")
        self._audit("api_key.revoke", key_id, f"service_account={record.service_account_id}")
        return self._api_key(key_id)

    def rotate_api_key(
        self, key_id: str, grace: timedelta = DEFAULT_ROTATION_GRACE
    ) -> tuple[ApiKeyRecord, str]:
        """A new key for the account of `key_id`; the old key keeps working for `grace`, then expires.

        The new key has the old one's description; an old key that would expire sooner keeps its expiry.
        """
        if grace < timedelta(0):
            raise InvalidArgument("the grace period of a rotation cannot be negative")
        old = self._api_key(key_id)
        now = self._clock()
        if not old.usable_at(now):
            raise InvalidArgument(
                f"API key {key_id} is revoked or expired; create a new key with `asyncstt keys create`"
            )
        lifetime = old.expires_at - old.created_at if old.expires_at is not None else None
        record, key = create_api_key(
            self._identity,
            old.folder_id,
            old.service_account_id,
            now,
            now + lifetime if lifetime is not None else None,
            old.description,
        )
        retire_at = now + grace
        if old.expires_at is None or retire_at < old.expires_at:
            self._identity.set_api_key_expiry(key_id, retire_at)
        self._audit("api_key.create", record.id, _key_detail(record))
        self._audit(
            "api_key.rotate",
            key_id,
            f"replaced_by={record.id} old_expires_at={retire_at.isoformat()}",
        )
        return record, key

    def _api_key(self, key_id: str) -> ApiKeyRecord:
        record = self._identity.find_api_key(key_id)
        if record is None:
            raise NotFound(f"API key {key_id!r} not found; `asyncstt keys list` shows them")
        return record

    # authorized keys

    def create_authorized_key(self, account: str) -> tuple[AuthorizedKeyRecord, dict[str, str]]:
        """An RSA key pair for `account`: the public half is stored, the private half is only in the returned
        key file, laid out as `yc iam key create` writes it (what the yandexcloud SDK reads)."""
        holder = self.account(account)
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
        public_pem = (
            private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        private_pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        record = AuthorizedKeyRecord(
            new_instance_id(AUTHORIZED_KEY_PREFIX), holder.id, public_pem, self._clock()
        )
        self._identity.add_authorized_key(record)
        self._audit("authorized_key.create", record.id, f"service_account={holder.id}")
        key_file = {
            "id": record.id,
            "service_account_id": holder.id,
            "created_at": _rfc3339(record.created_at),
            "key_algorithm": KEY_ALGORITHM,
            "public_key": public_pem,
            "private_key": private_pem,
        }
        return record, key_file

    def list_authorized_keys(self, account: str | None = None) -> list[AuthorizedKeyRecord]:
        account_id = self.account(account).id if account is not None else None
        return self._identity.list_authorized_keys(account_id)

    def revoke_authorized_key(self, key_id: str) -> None:
        record = self._identity.find_authorized_key(key_id)
        if record is None:
            raise NotFound(
                f"authorized key {key_id!r} not found; `asyncstt keys authorized list` shows them"
            )
        if record.revoked_at is not None or not self._identity.revoke_authorized_key(
            key_id, self._clock()
        ):
            raise InvalidArgument(f"authorized key {key_id} is revoked already")
        self._audit("authorized_key.revoke", key_id, f"service_account={record.service_account_id}")

    # storage credentials

    def set_storage_credentials(
        self,
        folder: str,
        endpoint_url: str,
        access_key_id: str,
        secret_access_key: str,
        region: str = "us-east-1",
    ) -> StorageCredentialRecord:
        """The credentials `folder`'s links to object storage are read with; the secret is stored sealed."""
        where = self.folder(folder)
        endpoint_url = endpoint_url.strip()
        parts = urlsplit(endpoint_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise InvalidArgument(
                f"the storage endpoint must be an http(s) URL such as https://storage.yandexcloud.net, "
                f"not {endpoint_url!r}"
            )
        if not access_key_id.strip() or not secret_access_key:
            raise InvalidArgument("the storage credentials need an access key id and a secret key")
        if not region.strip():
            raise InvalidArgument("the storage region cannot be empty")
        record = StorageCredentialRecord(
            folder_id=where.id,
            endpoint_url=endpoint_url,
            region=region.strip(),
            access_key_id=access_key_id.strip(),
            encrypted_secret=self._server_key.seal(secret_access_key),
            updated_at=self._clock(),
        )
        self._identity.set_storage_credentials(record)
        self._audit(
            "storage_credentials.set",
            where.id,
            f"endpoint={record.endpoint_url} region={record.region} "
            f"access_key_id={record.access_key_id}",
        )
        return record

    def storage_credentials(self, folder: str) -> StorageCredentialRecord:
        """The folder's stored credentials; the secret in them stays sealed."""
        where = self.folder(folder)
        record = self._identity.get_storage_credentials(where.id)
        if record is None:
            raise NotFound(f"folder {where.name} ({where.id}) has no storage credentials")
        return record

    def delete_storage_credentials(self, folder: str) -> None:
        where = self.folder(folder)
        if not self._identity.delete_storage_credentials(where.id):
            raise NotFound(f"folder {where.name} ({where.id}) has no storage credentials")
        self._audit("storage_credentials.delete", where.id)

    # audit

    def audit_log(self, since: datetime | None = None, limit: int = 100) -> list[AuditEvent]:
        """Newest first."""
        if limit <= 0:
            raise InvalidArgument("the audit listing limit must be positive")
        return self._identity.list_audit(since, limit)

    def _audit(self, action: str, target: str, detail: str = "") -> None:
        self._auditor.record(self._actor, action, target, "ok", detail)


def _name(name: str, what: str) -> str:
    name = name.strip()
    if not name or len(name) > _MAX_NAME or not name.isprintable():
        raise InvalidArgument(
            f"a {what} name must be 1 to {_MAX_NAME} printable characters, not {name[:_MAX_NAME]!r}"
        )
    return name


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidArgument(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")


def _key_detail(record: ApiKeyRecord) -> str:
    expires = record.expires_at.isoformat() if record.expires_at is not None else "never"
    return f"service_account={record.service_account_id} expires_at={expires}"


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
