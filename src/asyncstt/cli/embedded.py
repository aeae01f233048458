"""The server that `transcribe` and `batch` start in their own process when no `--server` is given.

It serves REST alone on a free port for as long as the command runs, with the store of the data dir, and
gives the command an API key of its own: an account `transcribe-cli` in the folder `default`, as `asyncstt
keys create` would make on a first run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from asyncstt.settings import Settings

#: The account the embedded server's keys belong to (and so the owner of the operations they submit).
ACCOUNT = "transcribe-cli"
FOLDER = "default"


@dataclass(frozen=True)
class Endpoint:
    """Where a command sends its requests and the key it signs them with."""

    url: str
    api_key: str


@contextmanager
def embedded_server(
    settings: Settings, console: Console, command: str, *, file_root: Path | None = None
) -> Iterator[Endpoint]:
    """A running server and a new key for `command` (named in the key's description); `file_root` is where
    its `file://` links may point."""
    from asyncstt.iam.admin import IdentityAdmin
    from asyncstt.server.process import Server, free_port

    changes: dict[str, object] = {
        "port": free_port(settings.host),
        # The embedded server is reached over REST alone; it takes no port that another may want.
        "grpc": settings.grpc.model_copy(update={"port": 0}),
    }
    if file_root is not None:
        changes["file_sources"] = settings.file_sources.model_copy(update={"root": file_root})
    settings = settings.model_copy(update=changes)
    with console.status("starting the embedded server and loading the model…"):
        server = Server(settings)
        server.__enter__()
    try:
        components = server.components
        admin = IdentityAdmin(components.identity, components.server_key, components.auditor)
        _, account = admin.bootstrap(FOLDER, ACCOUNT)
        _, key = admin.create_api_key(account.id, description=f"asyncstt {command}")
        yield Endpoint(server.url, key)
    finally:
        server.__exit__(None, None, None)
