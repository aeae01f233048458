"""The admin commands as an operator runs them: `python -m asyncstt.cli …` against a SQLite data directory,
with what they create checked through the real authenticator and token service."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from yandexcloud._auth_fabric import ServiceAccountAuth, get_auth_token_requester

from asyncstt.cli.main import main
from asyncstt.errors import Unauthenticated
from asyncstt.iam.audit import Auditor
from asyncstt.iam.auth import Authenticator, Principal
from asyncstt.iam.server_key import ServerKey
from asyncstt.iam.sql import SqlIdentityStore
from asyncstt.iam.tokens import TokenService
from asyncstt.settings import Settings
from asyncstt.store.sql import SqlStore
from tests.support.environment import child_environment

# Each command is a Python process that imports the store: seconds apiece on a loaded machine.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

STORAGE_SECRET = "storage-secret-" + "x" * 24


@dataclass
class Cli:
    data_dir: Path

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "asyncstt.cli", *args, "--data-dir", str(self.data_dir)],
            env=child_environment(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def ok(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = self.run(*args, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def fails(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = self.run(*args, env=env)
        assert done.returncode == 2, (done.stdout, done.stderr)
        assert done.stderr.startswith("asyncstt: ")
        assert "Traceback" not in done.stderr
        return done.stderr

    def rows(self, *args: str) -> list[dict[str, str]]:
        """A listing read back from its tab-separated form (what a command prints into a pipe)."""
        header, *lines = self.ok(*args).splitlines()
        columns = header.split("\t")
        return [dict(zip(columns, line.split("\t"), strict=True)) for line in lines]

    @contextmanager
    def identity(self) -> Iterator[tuple[SqlIdentityStore, ServerKey]]:
        settings = Settings(data_dir=self.data_dir)
        store = SqlStore(settings.store_url)
        try:
            yield SqlIdentityStore(store), ServerKey.load(settings)
        finally:
            store.close()

    def authenticate(self, header: str) -> Principal:
        with self.identity() as (identity, key):
            settings = Settings().iam
            tokens = TokenService(identity, key, settings)
            gate = Authenticator(identity, tokens, settings, Auditor(identity))
            return gate.authenticate(header)


@dataclass
class Team:
    folder_id: str
    account_id: str


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(tmp_path_factory.mktemp("admin-cli") / "data")


@pytest.fixture(scope="module")
def team(cli: Cli) -> Team:
    created = cli.ok("folders", "create", "team-a").split()
    folder_id = created[2]
    assert folder_id.startswith("b1g")
    account_id = cli.ok("accounts", "create", "--folder", "team-a", "robot").split()[3]
    assert account_id.startswith("aje")
    cli.ok(
        "roles",
        "bind",
        "--account",
        "robot",
        "--folder",
        "team-a",
        "--role",
        "ai.speechkit-stt.user",
    )
    assert {"id": folder_id, "name": "team-a"}.items() <= cli.rows("folders", "list")[0].items()
    assert [r["folder"] for r in cli.rows("accounts", "list", "--folder", folder_id)] == [folder_id]
    roles = cli.rows("roles", "list", "--folder", "team-a")
    assert [(r["service account"], r["role"]) for r in roles] == [
        (account_id, "ai.speechkit-stt.user")
    ]
    return Team(folder_id, account_id)


def _key(output: str) -> tuple[str, str]:
    """Id and key of a `keys create`/`keys rotate` output; the key is on the last line."""
    key = output.strip().splitlines()[-1]
    return key.removeprefix("AQVN").partition(".")[0], key


def test_api_key_create_list_rotate_revoke(cli: Cli, team: Team) -> None:
    old_id, old_key = _key(
        cli.ok("keys", "create", "--account", "robot", "--expires-in", "30d", "--description", "ci")
    )
    listed = {r["id"]: r for r in cli.rows("keys", "list", "--account", team.account_id)}
    assert listed[old_id]["description"] == "ci"
    assert listed[old_id]["expires"] != "never"
    assert old_key not in json.dumps(listed)
    assert cli.authenticate(f"Api-Key {old_key}") == Principal(team.folder_id, team.account_id)

    rotated = cli.ok("keys", "rotate", old_id, "--grace", "1h")
    assert f"API key {old_id} keeps working until" in rotated
    new_id, new_key = _key(rotated)
    assert new_id != old_id
    # Both work during the grace period: clients switch without downtime.
    assert cli.authenticate(f"Api-key {old_key}").service_account_id == team.account_id
    assert cli.authenticate(f"Api-Key {new_key}").service_account_id == team.account_id

    assert cli.ok("keys", "revoke", old_id).strip() == f"revoked API key {old_id}"
    with pytest.raises(Unauthenticated):
        cli.authenticate(f"Api-Key {old_key}")
    assert cli.authenticate(f"Api-Key {new_key}").folder_id == team.folder_id
    assert "revoked already" in cli.fails("keys", "revoke", old_id)


def test_legacy_keys_create_makes_folder_and_account(cli: Cli) -> None:
    _, key = _key(cli.ok("keys", "create", "--folder", "legacy", "--service-account", "old-sa"))
    principal = cli.authenticate(f"Api-Key {key}")
    accounts = {r["id"]: r for r in cli.rows("accounts", "list", "--folder", "legacy")}
    assert accounts[principal.service_account_id]["name"] == "old-sa"


def test_authorized_key_file_gets_an_iam_token(cli: Cli, team: Team, tmp_path: Path) -> None:
    path = tmp_path / "keys" / "sa-key.json"
    cli.ok("keys", "authorized", "create", "--account", "robot", "--output", str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key_file = json.loads(path.read_text())
    assert key_file["service_account_id"] == team.account_id
    assert key_file["key_algorithm"] == "RSA_2048"
    assert "exists already" in cli.fails(
        "keys", "authorized", "create", "--account", "robot", "--output", str(path)
    )
    assert json.loads(path.read_text()) == key_file

    # The SDK validates the file and signs its JWT; asyncstt exchanges it for an IAM token.
    requester = get_auth_token_requester(service_account_key=key_file)
    assert isinstance(requester, ServiceAccountAuth)
    jwt = requester.get_token_request().jwt
    with cli.identity() as (identity, server_key):
        tokens = TokenService(identity, server_key, Settings().iam)
        issued = tokens.exchange_jwt(jwt, "http://127.0.0.1:8000/iam/v1/tokens")
        assert tokens.verify(issued.iam_token).id == team.account_id
        stored = identity.find_authorized_key(key_file["id"])
        assert stored is not None
        assert stored.public_key_pem == key_file["public_key"]

    listed = cli.rows("keys", "authorized", "list", "--account", "robot")
    assert key_file["id"] in [r["id"] for r in listed]
    cli.ok("keys", "authorized", "revoke", key_file["id"])
    with (
        cli.identity() as (identity, server_key),
        pytest.raises(Unauthenticated, match="unknown or revoked"),
    ):
        TokenService(identity, server_key, Settings().iam).exchange_jwt(
            jwt, "http://127.0.0.1:8000/iam/v1/tokens"
        )


def test_storage_credentials_and_audit_never_show_secrets(cli: Cli, team: Team) -> None:
    _, key = _key(cli.ok("keys", "create", "--account", team.account_id))
    env = {"ASYNCSTT_STORAGE_SECRET": STORAGE_SECRET}
    cli.ok(
        "storage",
        "set",
        "--folder",
        "team-a",
        "--endpoint",
        "https://storage.example.test",
        "--access-key-id",
        "AKTEAMA",
        env=env,
    )
    shown = cli.ok("storage", "show", "--folder", team.folder_id)
    assert "https://storage.example.test" in shown
    assert "AKTEAMA" in shown
    assert STORAGE_SECRET not in shown
    with sqlite3.connect(
        Path(Settings(data_dir=cli.data_dir).store_url.removeprefix("sqlite:///"))
    ) as database:
        stored = database.execute("select encrypted_secret from storage_credentials").fetchall()
    assert stored
    assert all(STORAGE_SECRET.encode() not in row[0] for row in stored)
    cli.ok("storage", "delete", "--folder", "team-a")
    assert "no storage credentials" in cli.fails("storage", "show", "--folder", "team-a")

    audit = cli.rows("audit", "--limit", "500")
    actions = {r["action"] for r in audit}
    assert {
        "folder.create",
        "service_account.create",
        "role.bind",
        "api_key.create",
        "storage_credentials.set",
        "storage_credentials.delete",
    } <= actions
    assert {r["actor"] for r in audit} == {"cli"}
    everything = json.dumps(audit)
    assert STORAGE_SECRET not in everything
    assert key.partition(".")[2] not in everything
    assert cli.rows("audit", "--since", "2999-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("roles", "bind", "--account", "robot", "--folder", "team-a", "--role", "owner"),
            "roles are: ai.speechkit-stt.user, editor, admin",
        ),
        (("accounts", "create", "--folder", "nowhere", "x"), "folder 'nowhere' not found"),
        (("keys", "create", "--account", "ghost"), "service account 'ghost' not found"),
        (("keys", "create", "--account", "robot", "--expires-in", "soon"), "invalid duration"),
        (("keys", "create", "--account", "robot", "--folder", "team-a"), "leave out --folder"),
        (("keys", "rotate", "aje-unknown"), "API key 'aje-unknown' not found"),
        (
            (
                "storage",
                "set",
                "--folder",
                "team-a",
                "--endpoint",
                "https://s",
                "--access-key-id",
                "A",
            ),
            "ASYNCSTT_STORAGE_SECRET",
        ),
        (("audit", "--since", "yesterday"), "invalid time"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    cli: Cli,
    team: Team,
    args: tuple[str, ...],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In this process rather than a subprocess each: the same `main`, a fraction of the start-up time.
    monkeypatch.delenv("ASYNCSTT_STORAGE_SECRET", raising=False)
    assert main([*args, "--data-dir", str(cli.data_dir)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("asyncstt: ")
    assert message in error
