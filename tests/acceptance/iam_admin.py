"""The operator's side of the IAM tests: `asyncstt folders|accounts|roles|keys …` in subprocesses, run against
one deployment's store exactly as an operator would."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

STT_USER = "ai.speechkit-stt.user"
_KEY_LINE = re.compile(
    r"created API key (?P<id>\S+) for service account (?P<account>\S+) in folder (?P<folder>\S+)"
)

T = TypeVar("T")
#: Every credential the IAM tests have seen printed (by the admin command or the token exchange): the audit log
#: must contain none of them.
SECRETS: list[str] = []


@dataclass(frozen=True)
class ApiKey:
    id: str
    account_id: str
    folder_id: str
    key: str

    @property
    def header(self) -> dict[str, str]:
        return {"Authorization": f"Api-Key {self.key}"}


@dataclass
class Operator:
    """Runs `asyncstt <group> <verb> …` against one deployment's store, exactly as an operator would."""

    data_dir: Path
    env: dict[str, str]
    database: str | None = None

    def command(self, *args: str) -> list[str]:
        store = ["--data-dir", str(self.data_dir)]
        if self.database is not None:
            store += ["--database", self.database]
        return [sys.executable, "-m", "asyncstt.cli", *args, *store]

    def run(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            self.command(*args),
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, f"asyncstt {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def folder(self, name: str) -> str:
        out = self.run("folders", "create", name)
        match = re.search(r"created folder (\S+) \((.*)\)", out)
        assert match is not None, out
        assert match.group(2) == name, out
        return match.group(1)

    def account(self, folder: str, name: str) -> str:
        out = self.run("accounts", "create", "--folder", folder, name)
        match = re.search(r"created service account (\S+) \((.*)\) in folder (\S+)", out)
        assert match is not None, out
        assert match.group(2) == name, out
        return match.group(1)

    def bind(self, account: str, folder: str, role: str = STT_USER) -> None:
        out = self.run("roles", "bind", "--account", account, "--folder", folder, "--role", role)
        assert role in out, out

    def key(self, account: str, *extra: str) -> ApiKey:
        return parse_key(self.run("keys", "create", "--account", account, *extra))

    def bootstrap(self, folder: str, account: str) -> ApiKey:
        """The one-step form: folder and account created when missing, the account holding the user role."""
        return parse_key(
            self.run("keys", "create", "--folder", folder, "--service-account", account)
        )

    def revoke(self, key: ApiKey) -> None:
        assert key.id in self.run("keys", "revoke", key.id)

    def authorized_key(self, account: str, output: Path) -> dict[str, str]:
        out = self.run(
            "keys", "authorized", "create", "--account", account, "--output", str(output)
        )
        assert str(output) in out, out
        key_file: dict[str, str] = json.loads(output.read_text())
        SECRETS.append(key_file["private_key"])
        return key_file


def at_once(*calls: Callable[[], T]) -> list[T]:
    """Independent steps at the same time: each admin command is mostly interpreter start-up."""
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


def parse_key(out: str) -> ApiKey:
    matches = list(_KEY_LINE.finditer(out))
    assert matches, out
    found = matches[-1]
    key = out.strip().splitlines()[-1].strip()
    assert key.startswith("AQVN"), out
    assert found.group("id") in key, out
    SECRETS.append(key)
    SECRETS.append(key.partition(".")[2])
    return ApiKey(found.group("id"), found.group("account"), found.group("folder"), key)
