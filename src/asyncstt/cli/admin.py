"""The administration commands of `asyncstt`: folders, service accounts, roles, API keys, authorized keys,
storage credentials and the audit log. They touch only the store, so they import neither the web stack nor
Dask."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from asyncstt.cli.arguments import (
    add_store_options,
    parse_duration,
    parse_timestamp,
    store_overrides,
)
from asyncstt.cli.tables import print_table, when
from asyncstt.cli.webhooks import add_webhook_commands
from asyncstt.errors import InvalidArgument
from asyncstt.settings import Settings

_Row = TypeVar("_Row")

if TYPE_CHECKING:
    from asyncstt.iam.admin import IdentityAdmin

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


#: Environment variable the storage secret key is read from (never from the command line).
STORAGE_SECRET_ENV = "ASYNCSTT_STORAGE_SECRET"  # noqa: S105 (a variable name, not a secret)


@contextmanager
def _admin(args: argparse.Namespace) -> Iterator[IdentityAdmin]:
    from asyncstt.iam.admin import IdentityAdmin
    from asyncstt.iam.audit import Auditor
    from asyncstt.iam.server_key import ServerKey
    from asyncstt.iam.sql import SqlIdentityStore
    from asyncstt.store.sql import SqlStore

    settings = Settings().model_copy(update=store_overrides(args))
    # What `asyncstt.server.process.open_store` does, without importing the server (the web stack and Dask), which
    # would take most of an admin command's time.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(settings.store_url)
    try:
        identity = SqlIdentityStore(store)
        auditor = Auditor(identity, retention_days=settings.iam.audit_retention_days)
        yield IdentityAdmin(identity, ServerKey.load(settings), auditor)
    finally:
        store.close()


def cmd_folders_create(args: argparse.Namespace) -> int:
    with _admin(args) as admin:
        folder = admin.create_folder(args.name)
    print(f"created folder {folder.id} ({folder.name})")
    return 0


def cmd_accounts_create(args: argparse.Namespace) -> int:
    with _admin(args) as admin:
        account = admin.create_service_account(args.folder, args.name)
    print(f"created service account {account.id} ({account.name}) in folder {account.folder_id}")
    print("it holds no role yet; grant one with `asyncstt roles bind`")
    return 0


def cmd_roles_bind(args: argparse.Namespace) -> int:
    with _admin(args) as admin:
        binding = admin.bind_role(args.account, args.folder, args.role)
    print(
        f"service account {binding.service_account_id} holds {binding.role} on folder {binding.folder_id}"
    )
    return 0


def cmd_roles_unbind(args: argparse.Namespace) -> int:
    with _admin(args) as admin:
        account = admin.account(args.account)
        folder = admin.folder(args.folder)
        admin.unbind_role(account.id, folder.id, args.role)
    print(f"service account {account.id} no longer holds {args.role} on folder {folder.id}")
    return 0


def _print_new_key(record_id: str, account_id: str, folder_id: str, key: str) -> None:
    print(f"created API key {record_id} for service account {account_id} in folder {folder_id}")
    print("it is shown only once; use it as 'Authorization: Api-Key <key>':")
    print(key)


def cmd_keys_create(args: argparse.Namespace) -> int:
    expires_in = parse_duration(args.expires_in) if args.expires_in else None
    with _admin(args) as admin:
        if args.account:
            if args.folder or args.service_account:
                raise InvalidArgument(
                    "--account names the key's service account; leave out --folder and --service-account"
                )
            account = args.account
        else:
            _, created = admin.bootstrap(
                args.folder or "default", args.service_account or "default-sa"
            )
            account = created.id
        record, key = admin.create_api_key(account, expires_in, args.description)
    _print_new_key(record.id, record.service_account_id, record.folder_id, key)
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    with _admin(args) as admin:
        admin.revoke_api_key(args.key_id)
    print(f"revoked API key {args.key_id}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    grace = parse_duration(args.grace)
    with _admin(args) as admin:
        record, key = admin.rotate_api_key(args.key_id, grace)
        old = admin.list_api_keys(record.service_account_id)
    retired = next((k for k in old if k.id == args.key_id), None)
    until = when(retired.expires_at if retired is not None else None, "now")
    print(f"API key {args.key_id} keeps working until {until}; switch clients to the new key")
    _print_new_key(record.id, record.service_account_id, record.folder_id, key)
    return 0


def cmd_authorized_create(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.exists():
        raise InvalidArgument(f"{output} exists already; choose another --output or remove it")
    output.parent.mkdir(parents=True, exist_ok=True)
    with _admin(args) as admin:
        record, key_file = admin.create_authorized_key(args.account)
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise InvalidArgument(f"{output} exists already; choose another --output") from exc
    with os.fdopen(fd, "w") as handle:
        json.dump(key_file, handle, indent=2)
        handle.write("\n")
    print(
        f"created authorized key {record.id} for service account {record.service_account_id}; "
        f"its private key is only in {output}"
    )
    return 0


def cmd_authorized_revoke(args: argparse.Namespace) -> int:
    with _admin(args) as admin:
        admin.revoke_authorized_key(args.key_id)
    print(f"revoked authorized key {args.key_id}")
    return 0


def _storage_secret() -> str:
    secret = os.environ.get(STORAGE_SECRET_ENV, "")
    if secret:
        return secret
    if sys.stdin.isatty():
        return getpass.getpass("secret access key: ")
    raise InvalidArgument(
        f"no secret key: set {STORAGE_SECRET_ENV} or run the command in a terminal to be asked for it"
    )


def cmd_storage_set(args: argparse.Namespace) -> int:
    secret = _storage_secret()
    with _admin(args) as admin:
        record = admin.set_storage_credentials(
            args.folder, args.endpoint, args.access_key_id, secret, args.region
        )
    print(
        f"folder {record.folder_id} reads its storage links from {record.endpoint_url} "
        f"with access key {record.access_key_id}"
    )
    return 0


def cmd_storage_show(args: argparse.Namespace) -> int:
    with _admin(args) as admin:
        record = admin.storage_credentials(args.folder)
    print(f"folder: {record.folder_id}")
    print(f"endpoint: {record.endpoint_url}")
    print(f"region: {record.region}")
    print(f"access key id: {record.access_key_id}")
    print("secret key: (stored encrypted, not shown)")
    print(f"updated: {when(record.updated_at)}")
    return 0


def cmd_storage_delete(args: argparse.Namespace) -> int:
    with _admin(args) as admin:
        admin.delete_storage_credentials(args.folder)
    print(f"folder {args.folder} reads its storage links with the server-wide credentials again")
    return 0


def _listing(
    title: str,
    columns: Sequence[str],
    read: Callable[[IdentityAdmin, argparse.Namespace], Iterable[_Row]],
    cells: Callable[[_Row], Sequence[str]],
) -> Callable[[argparse.Namespace], int]:
    """A list command: what `read` returns, a row of `cells` each, printed by `print_table`."""

    def command(args: argparse.Namespace) -> int:
        with _admin(args) as admin:
            rows = [cells(row) for row in read(admin, args)]
        print_table(title, columns, rows)
        return 0

    return command


cmd_folders_list = _listing(
    "folders",
    ["id", "name", "created"],
    lambda admin, _: admin.list_folders(),
    lambda f: [f.id, f.name, when(f.created_at)],
)
cmd_accounts_list = _listing(
    "service accounts",
    ["id", "name", "folder", "created"],
    lambda admin, args: admin.list_service_accounts(args.folder),
    lambda a: [a.id, a.name, a.folder_id, when(a.created_at)],
)
cmd_roles_list = _listing(
    "role bindings",
    ["folder", "service account", "role", "since"],
    lambda admin, args: admin.list_roles(args.folder),
    lambda b: [b.folder_id, b.service_account_id, b.role, when(b.created_at)],
)
cmd_keys_list = _listing(
    "API keys",
    ["id", "service account", "folder", "created", "expires", "revoked", "description"],
    lambda admin, args: admin.list_api_keys(args.account),
    lambda k: [
        k.id,
        k.service_account_id,
        k.folder_id,
        when(k.created_at),
        when(k.expires_at, "never"),
        when(k.revoked_at, "yes") if k.revoked else "",
        k.description,
    ],
)
cmd_authorized_list = _listing(
    "authorized keys",
    ["id", "service account", "created", "revoked"],
    lambda admin, args: admin.list_authorized_keys(args.account),
    lambda k: [k.id, k.service_account_id, when(k.created_at), when(k.revoked_at)],
)
cmd_audit = _listing(
    "audit log",
    ["at", "actor", "action", "target", "outcome", "detail"],
    lambda admin, args: admin.audit_log(
        parse_timestamp(args.since) if args.since else None, args.limit
    ),
    lambda e: [when(e.at), e.actor, e.action, e.target, e.outcome, e.detail],
)


def add_admin_commands(commands: Commands) -> None:
    def group(parent: Commands, name: str, help_text: str) -> Commands:
        sub = parent.add_parser(name, help=help_text, description=help_text)
        return sub.add_subparsers(dest=f"{name}_command", required=True)

    def action(
        actions: Commands,
        verb: str,
        handler: Callable[[argparse.Namespace], int],
        help_text: str,
    ) -> argparse.ArgumentParser:
        parser = actions.add_parser(verb, help=help_text, description=help_text)
        add_store_options(parser)
        parser.set_defaults(handler=handler)
        return parser

    folders = group(commands, "folders", "create and list folders (tenants)")
    action(folders, "create", cmd_folders_create, "create a folder").add_argument("name")
    action(folders, "list", cmd_folders_list, "list folders")

    accounts = group(commands, "accounts", "create and list service accounts")
    create_account = action(accounts, "create", cmd_accounts_create, "create a service account")
    create_account.add_argument("--folder", required=True, help="folder id or name")
    create_account.add_argument("name")
    action(accounts, "list", cmd_accounts_list, "list service accounts").add_argument(
        "--folder", help="only this folder (id or name)"
    )

    roles = group(commands, "roles", "grant and take back roles of service accounts on folders")
    for verb, handler, text in (
        ("bind", cmd_roles_bind, "grant a role on a folder"),
        ("unbind", cmd_roles_unbind, "take a role on a folder back"),
    ):
        binding = action(roles, verb, handler, text)
        binding.add_argument("--account", required=True, help="service account id or name")
        binding.add_argument("--folder", required=True, help="folder id or name")
        binding.add_argument("--role", required=True, help="ai.speechkit-stt.user, editor or admin")
    action(roles, "list", cmd_roles_list, "list role bindings").add_argument(
        "--folder", help="only this folder (id or name)"
    )

    keys = group(commands, "keys", "manage API keys and authorized keys")
    create = action(
        keys, "create", cmd_keys_create, "create an API key; prints it on the last line"
    )
    create.add_argument("--account", help="service account id or name (preferred)")
    create.add_argument(
        "--expires-in", help="lifetime such as 30d, 12h or 90m (default: no expiry)"
    )
    create.add_argument("--description", default="", help="what the key is for")
    create.add_argument(
        "--folder",
        help="older form, instead of --account: folder (id or name), created when missing "
        "(default: default)",
    )
    create.add_argument(
        "--service-account",
        help="older form, instead of --account: service account (id or name) in --folder, created "
        "with ai.speechkit-stt.user when missing (default: default-sa)",
    )
    action(keys, "list", cmd_keys_list, "list API keys").add_argument(
        "--account", help="only this service account (id or name)"
    )
    action(keys, "revoke", cmd_keys_revoke, "revoke an API key at once").add_argument("key_id")
    rotate = action(
        keys,
        "rotate",
        cmd_keys_rotate,
        "create a new key for the same account; the old one keeps working for --grace",
    )
    rotate.add_argument("key_id")
    rotate.add_argument(
        "--grace", default="1h", help="how long the old key still works (default 1h)"
    )

    authorized = group(
        keys,
        "authorized",
        "RSA key pairs that sign the JWTs exchanged for IAM tokens (the SDKs' flow)",
    )
    authorized_create = action(
        authorized,
        "create",
        cmd_authorized_create,
        "create a key pair; writes the yc-format key file",
    )
    authorized_create.add_argument("--account", required=True, help="service account id or name")
    authorized_create.add_argument(
        "--output", required=True, help="key file to write (mode 0600; never overwritten)"
    )
    action(authorized, "list", cmd_authorized_list, "list authorized keys").add_argument(
        "--account", help="only this service account (id or name)"
    )
    action(authorized, "revoke", cmd_authorized_revoke, "revoke an authorized key").add_argument(
        "key_id"
    )

    storage = group(commands, "storage", "a folder's own object-storage credentials")
    storage_set = action(
        storage,
        "set",
        cmd_storage_set,
        f"set a folder's credentials; the secret key comes from {STORAGE_SECRET_ENV} or a prompt",
    )
    storage_set.add_argument("--folder", required=True, help="folder id or name")
    storage_set.add_argument("--endpoint", required=True, help="S3 API URL")
    storage_set.add_argument("--access-key-id", required=True)
    storage_set.add_argument("--region", default="us-east-1", help="signing region")
    for verb, handler, text in (
        ("show", cmd_storage_show, "show a folder's credentials (never the secret)"),
        ("delete", cmd_storage_delete, "delete a folder's credentials"),
    ):
        action(storage, verb, handler, text).add_argument(
            "--folder", required=True, help="folder id or name"
        )

    audit = commands.add_parser("audit", help="list the audit log, newest first")
    add_store_options(audit)
    audit.add_argument("--since", help="only events at or after this ISO 8601 time")
    audit.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    audit.set_defaults(handler=cmd_audit)

    add_webhook_commands(commands)
