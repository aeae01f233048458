"""`asyncstt webhooks add|list|remove`: a folder's webhook, which hears of every operation of the folder that
ends. Like the other administration commands they touch only the store."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asyncstt.cli.arguments import add_store_options, store_overrides
from asyncstt.cli.tables import print_table, when
from asyncstt.settings import Settings

if TYPE_CHECKING:
    from asyncstt.iam.admin import IdentityAdmin
    from asyncstt.iam.audit import Auditor
    from asyncstt.store.sql import SqlStore
    from asyncstt.webhooks.registry import WebhookRegistry

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


@dataclass
class _Session:
    store: SqlStore
    admin: IdentityAdmin
    auditor: Auditor
    registry: WebhookRegistry


@contextmanager
def _session(args: argparse.Namespace) -> Iterator[_Session]:
    from asyncstt.iam.admin import IdentityAdmin
    from asyncstt.iam.audit import Auditor
    from asyncstt.iam.server_key import ServerKey
    from asyncstt.iam.sql import SqlIdentityStore
    from asyncstt.store.sql import SqlStore
    from asyncstt.webhooks.registry import WebhookRegistry

    settings = Settings().model_copy(update=store_overrides(args))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(settings.store_url)
    try:
        identity = SqlIdentityStore(store)
        server_key = ServerKey.load(settings)
        auditor = Auditor(identity, retention_days=settings.iam.audit_retention_days)
        yield _Session(
            store,
            IdentityAdmin(identity, server_key, auditor),
            auditor,
            WebhookRegistry(store, server_key, settings.webhooks),
        )
    finally:
        store.close()


def cmd_webhooks_add(args: argparse.Namespace) -> int:
    from asyncstt.iam.audit import CLI_ACTOR
    from asyncstt.sources.http import describe
    from asyncstt.webhooks.address import parse_webhook_url

    with _session(args) as session:
        folder = session.admin.folder(args.folder)
        webhook, secret = session.registry.add(folder.id, args.url)
        shown = describe(parse_webhook_url(webhook.url))
        # The URL's query may carry a token of the receiver's: the audit log keeps it out.
        session.auditor.record(CLI_ACTOR, "webhook.set", folder.id, "ok", f"url={shown}")
    print(f"folder {folder.id} announces its finished operations to {shown}")
    print("the signing secret is shown only once; verify X-Asyncstt-Signature with it:")
    print(secret)
    return 0


def cmd_webhooks_list(args: argparse.Namespace) -> int:
    from asyncstt.sources.http import describe
    from asyncstt.webhooks.address import parse_webhook_url

    with _session(args) as session:
        webhooks = session.registry.list()
        states: Counter[tuple[str, str]] = Counter()
        for delivery in session.store.deliveries():
            state = (
                "delivered"
                if delivery.delivered_at is not None
                else "failed"
                if delivery.failed_at is not None
                else "pending"
            )
            states[delivery.folder_id, state] += 1
    print_table(
        "webhooks",
        ["folder", "url", "created", "pending", "delivered", "failed"],
        [
            [
                w.folder_id,
                describe(parse_webhook_url(w.url)),
                when(w.created_at),
                *(str(states[w.folder_id, state]) for state in ("pending", "delivered", "failed")),
            ]
            for w in webhooks
        ],
    )
    return 0


def cmd_webhooks_remove(args: argparse.Namespace) -> int:
    from asyncstt.iam.audit import CLI_ACTOR

    with _session(args) as session:
        folder = session.admin.folder(args.folder)
        session.registry.remove(folder.id)
        session.auditor.record(CLI_ACTOR, "webhook.delete", folder.id, "ok")
    print(f"folder {folder.id} has no webhook any more; its deliveries not sent yet are dropped")
    return 0


def add_webhook_commands(commands: Commands) -> None:
    text = "a folder's webhook, POSTed a signed note when each of its operations ends"
    webhooks = commands.add_parser("webhooks", help=text, description=text)
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True)

    def action(
        verb: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        parser = actions.add_parser(verb, help=help_text, description=help_text)
        add_store_options(parser)
        parser.set_defaults(handler=handler)
        return parser

    add = action(
        "add", cmd_webhooks_add, "set a folder's webhook (replacing its old one); prints the secret"
    )
    add.add_argument("--folder", required=True, help="folder id or name")
    add.add_argument("--url", required=True, help="http(s) URL the notes are POSTed to")
    action("list", cmd_webhooks_list, "list webhooks and how many deliveries each has by state")
    action("remove", cmd_webhooks_remove, "remove a folder's webhook").add_argument(
        "--folder", required=True, help="folder id or name"
    )
