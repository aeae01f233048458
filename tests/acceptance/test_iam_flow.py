"""Identity and access end to end: real `asyncstt serve` processes, identities set up with the admin command as an
operator would, every endpoint driven over HTTP.

One server on SQLite holds two tenant folders (isolation, refusals, roles, the SDK's JWT flow, key rotation, the
audit log); two API processes on one PostgreSQL database share request quotas and IAM tokens.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yandexcloud._auth_fabric import ServiceAccountAuth

from tests.support.environment import child_environment
from tests.support.postgres import PostgresServer
from tests.support.serve import ServeProcess
from tests.support.wer import JFK_REFERENCE, word_errors

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

STT_USER = "ai.speechkit-stt.user"
PUBLIC_TOKEN_URL = "https://iam.api.cloud.yandex.net/iam/v1/tokens"  # noqa: S105 (a URL)
#: Short enough to wait for, long enough to use a token on both processes first (expiry is in whole seconds).
TOKEN_TTL_SECONDS = 5
PAIR_QUOTAS = {"submits": 3, "v2_polls": 10, "v3_polls": 5}
DONE_TIMEOUT = 150.0
#: How long the IAM test server trusts an API key or role it has read (`iam.cache_seconds`).
CACHE_SECONDS = 1.0
_KEY_LINE = re.compile(
    r"created API key (?P<id>\S+) for service account (?P<account>\S+) in folder (?P<folder>\S+)"
)

T = TypeVar("T")
#: Every credential the admin command printed in this module: the audit log must contain none of them.
SECRETS: list[str] = []


# --- the operator's side: the admin command in subprocesses ---------------------------------------------------


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


# --- the client's side ---------------------------------------------------------------------------------------


def jfk_v2_body(reference_audio: Path, folder_id: str = "") -> dict[str, Any]:
    config: dict[str, Any] = {
        "specification": {
            "languageCode": "en-US",
            "model": "general",
            "audioEncoding": "LINEAR16_PCM",
            "sampleRateHertz": "16000",
        }
    }
    if folder_id:
        config["folderId"] = folder_id
    content = base64.b64encode((reference_audio / "jfk.wav").read_bytes()).decode()
    return {"config": config, "audio": {"content": content}}


def jfk_v3_body(reference_audio: Path) -> dict[str, Any]:
    return {
        "uri": (reference_audio / "jfk.wav").resolve().as_uri(),
        "recognitionModel": {
            "model": "general",
            "audioFormat": {"containerAudio": {"containerAudioType": "WAV"}},
            "languageRestriction": {"restrictionType": "WHITELIST", "languageCode": ["en-US"]},
        },
    }


def submit_v2(
    http: httpx.Client, headers: dict[str, str], reference_audio: Path, folder_id: str = ""
) -> httpx.Response:
    return http.post(
        "/speech/stt/v2/longRunningRecognize",
        json=jfk_v2_body(reference_audio, folder_id),
        headers=headers,
    )


def submit_v3(
    http: httpx.Client, headers: dict[str, str], reference_audio: Path, folder_id: str = ""
) -> httpx.Response:
    extra = {"x-folder-id": folder_id} if folder_id else {}
    return http.post(
        "/stt/v3/recognizeFileAsync",
        json=jfk_v3_body(reference_audio),
        headers={**headers, **extra},
    )


def operation_id(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["done"] is False, body
    identifier: str = body["id"]
    return identifier


def assert_status(response: httpx.Response, http_status: int, code: int, *fragments: str) -> None:
    """The answer is the given HTTP status with a google.rpc.Status body of `code` naming every fragment."""
    assert response.status_code == http_status, (
        f"{response.request.method} {response.request.url.path}: "
        f"{response.status_code} {response.text[:500]}"
    )
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    for fragment in fragments:
        assert fragment.lower() in body["message"].lower(), (fragment, body)
    assert body["details"][0]["requestId"] == response.headers["x-request-id"], body


def endpoint_calls(
    reference_audio: Path, v2_id: str, v3_id: str
) -> list[tuple[str, Callable[[httpx.Client, dict[str, str]], httpx.Response]]]:
    """Every endpoint of the API, each as (name, call with these headers)."""
    return [
        ("v2 submit", lambda h, hd: submit_v2(h, hd, reference_audio)),
        ("v3 submit", lambda h, hd: submit_v3(h, hd, reference_audio)),
        ("get v2", lambda h, hd: h.get(f"/operations/{v2_id}", headers=hd)),
        ("get v3", lambda h, hd: h.get(f"/operations/{v3_id}", headers=hd)),
        ("cancel GET", lambda h, hd: h.get(f"/operations/{v3_id}:cancel", headers=hd)),
        ("cancel POST", lambda h, hd: h.post(f"/operations/{v2_id}:cancel", headers=hd)),
        (
            "getRecognition",
            lambda h, hd: h.get(
                "/stt/v3/getRecognition", params={"operationId": v3_id}, headers=hd
            ),
        ),
        (
            "deleteRecognition",
            lambda h, hd: h.delete(
                "/stt/v3/deleteRecognition", params={"operationId": v3_id}, headers=hd
            ),
        ),
    ]


def operation_calls(
    operation: str,
) -> list[tuple[str, Callable[[httpx.Client, dict[str, str]], httpx.Response]]]:
    """Every endpoint that reads or changes an existing operation."""
    return [
        ("get", lambda h, hd: h.get(f"/operations/{operation}", headers=hd)),
        ("cancel GET", lambda h, hd: h.get(f"/operations/{operation}:cancel", headers=hd)),
        ("cancel POST", lambda h, hd: h.post(f"/operations/{operation}:cancel", headers=hd)),
        (
            "getRecognition",
            lambda h, hd: h.get(
                "/stt/v3/getRecognition", params={"operationId": operation}, headers=hd
            ),
        ),
        (
            "deleteRecognition",
            lambda h, hd: h.delete(
                "/stt/v3/deleteRecognition", params={"operationId": operation}, headers=hd
            ),
        ),
    ]


def wait_done(
    http: httpx.Client, identifier: str, headers: dict[str, str], timeout: float = DONE_TIMEOUT
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = http.get(f"/operations/{identifier}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["done"]:
            return body
        time.sleep(0.4)
    raise AssertionError(f"operation {identifier} not done after {timeout} s")


def v2_text(operation: dict[str, Any]) -> str:
    assert "error" not in operation, operation
    return " ".join(c["alternatives"][0]["text"] for c in operation["response"]["chunks"])


def v3_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    texts = []
    for line in response.content.splitlines():
        result = json.loads(line)["result"]
        if "final" in result:
            texts.append(result["final"]["alternatives"][0]["text"])
    return " ".join(texts)


def sign_jwt(
    private_pem: str,
    kid: str,
    iss: str,
    aud: str = PUBLIC_TOKEN_URL,
    iat: float | None = None,
    lifetime: float = 3600,
    algorithm: str = "PS256",
) -> str:
    issued = time.time() if iat is None else iat
    claims = {"iss": iss, "aud": aud, "iat": int(issued), "exp": int(issued + lifetime)}
    return jwt.encode(claims, private_pem, algorithm=algorithm, headers={"typ": "JWT", "kid": kid})


def exchange(http: httpx.Client, token: str) -> httpx.Response:
    """`POST /iam/v1/tokens` as the SDKs send it: no credentials, only the JWT."""
    return http.post("/iam/v1/tokens", json={"jwt": token})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the SQLite deployment: two tenants ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tenants:
    server: ServeProcess
    operator: Operator
    a_folder: str
    b_folder: str
    alice: ApiKey
    bob: ApiKey
    http: httpx.Client


@dataclass(frozen=True)
class AliceOperations:
    v2: str
    v3: str


@pytest.fixture(scope="module")
def iam_server(serve_factory: Callable[..., ServeProcess], reference_audio: Path) -> ServeProcess:
    # Tenancy, not quotas, is under test on this server: the 5/s v3 default would turn rapid 404s into 429s.
    return serve_factory(
        extra_env={
            "ASYNCSTT_IAM__QUOTAS__V3_POLLS_PER_SECOND": "1000",
            "ASYNCSTT_IAM__CACHE_SECONDS": str(CACHE_SECONDS),
        },
        args=["--file-root", str(reference_audio)],
    )


@pytest.fixture(scope="module")
def tenants(iam_server: ServeProcess) -> Iterator[Tenants]:
    """Folders A and B, each with an account holding the user role and an API key.

    The accounts come from the one-step form of `keys create`; the step-by-step commands (`accounts create`,
    `keys create --account`, `roles bind`) are exercised by the role test.
    """
    operator = Operator(iam_server.data_dir, iam_server.env)
    a_folder, b_folder = at_once(
        lambda: operator.folder("tenant-a"), lambda: operator.folder("tenant-b")
    )
    alice, bob = at_once(
        lambda: operator.bootstrap("tenant-a", "alice"),
        lambda: operator.bootstrap("tenant-b", "bob"),
    )
    assert (alice.folder_id, bob.folder_id) == (a_folder, b_folder)
    assert alice.account_id != bob.account_id
    with httpx.Client(base_url=iam_server.url, timeout=30) as http:
        yield Tenants(iam_server, operator, a_folder, b_folder, alice, bob, http)


@pytest.fixture(scope="module")
def alice_operations(tenants: Tenants, reference_audio: Path) -> AliceOperations:
    """A v2 (inline) and a v3 (file:// link) recognition of folder A, just submitted."""
    http, alice = tenants.http, tenants.alice
    return AliceOperations(
        v2=operation_id(submit_v2(http, alice.header, reference_audio)),
        v3=operation_id(submit_v3(http, alice.header, reference_audio)),
    )


@pytest.mark.timeout(400)
def test_folders_do_not_see_each_others_operations(
    tenants: Tenants, alice_operations: AliceOperations
) -> None:
    http, alice, bob = tenants.http, tenants.alice, tenants.bob
    missing = {"v2": "e03" + "0" * 17, "v3": "f8d" + "0" * 17}

    def assert_hidden_from_b(stage: str) -> None:
        for version, operation in (("v2", alice_operations.v2), ("v3", alice_operations.v3)):
            for (name, call), (_, call_missing) in zip(
                operation_calls(operation), operation_calls(missing[version]), strict=True
            ):
                answer = call(http, bob.header)
                assert answer.status_code == 404, (stage, version, name, answer.text)
                assert_status(answer, 404, 5, "not found")
                # Naming A's folder (where B holds no role) answers the same for A's operation as for none.
                named = call(http, {**bob.header, "x-folder-id": tenants.a_folder})
                named_missing = call_missing(http, {**bob.header, "x-folder-id": tenants.a_folder})
                assert named.status_code in (403, 404), (stage, version, name, named.text)
                assert (named.status_code, named.json()["code"]) == (
                    named_missing.status_code,
                    named_missing.json()["code"],
                ), (stage, version, name)

    # While they run: B's cancels must not cancel A's recognitions (checked by their results below).
    assert_hidden_from_b("running")
    done_v2 = wait_done(http, alice_operations.v2, alice.header)
    assert word_errors(v2_text(done_v2), JFK_REFERENCE) <= 1, done_v2
    done_v3 = wait_done(http, alice_operations.v3, alice.header)
    assert "error" not in done_v3, done_v3
    assert_hidden_from_b("done")

    # The scheme name is case-insensitive, as the public service's is.
    for scheme in ("Api-key", "API-KEY", "api-key"):
        answer = http.get(
            f"/operations/{alice_operations.v2}", headers={"Authorization": f"{scheme} {alice.key}"}
        )
        assert answer.status_code == 200, (scheme, answer.text)
    own_folder = {**alice.header, "x-folder-id": tenants.a_folder}
    for headers in (alice.header, own_folder):
        for operation in (alice_operations.v2, alice_operations.v3):
            got = http.get(f"/operations/{operation}", headers=headers)
            assert got.status_code == 200, got.text
            assert got.json()["id"] == operation, got.text
            for cancel in (http.get, http.post):
                cancelled = cancel(f"/operations/{operation}:cancel", headers=headers)
                assert cancelled.status_code == 200, cancelled.text
                assert cancelled.json()["done"] is True, cancelled.text
                assert "error" not in cancelled.json(), cancelled.text
    results = http.get(
        "/stt/v3/getRecognition", params={"operationId": alice_operations.v3}, headers=alice.header
    )
    assert word_errors(v3_text(results), JFK_REFERENCE) <= 1
    deleted = http.delete(
        "/stt/v3/deleteRecognition",
        params={"operationId": alice_operations.v3},
        headers=alice.header,
    )
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {}, deleted.text
    assert_status(
        http.get(f"/operations/{alice_operations.v3}", headers=alice.header), 404, 5, "not found"
    )


@pytest.mark.timeout(300)
def test_missing_bad_revoked_and_expired_credentials_are_401_everywhere(
    tenants: Tenants, alice_operations: AliceOperations, reference_audio: Path
) -> None:
    operator, http = tenants.operator, tenants.http
    polled = f"/operations/{alice_operations.v2}"
    lifetime = 8.0

    def expiring() -> tuple[ApiKey, float, int]:
        """A key with a short life, used as soon as the command that made it has returned."""
        key = operator.key(tenants.alice.account_id, "--expires-in", f"{lifetime:.0f}s")
        # The key expires `lifetime` after a moment inside the command, so before `returned + lifetime`.
        returned = time.monotonic()
        with httpx.Client(base_url=tenants.server.url, timeout=30) as own:
            return key, returned, own.get(polled, headers=key.header).status_code

    revoked, fresh = at_once(lambda: operator.key(tenants.alice.account_id), expiring)
    revoked_key = cast(ApiKey, revoked)
    expiring_key, returned, first_status = cast(tuple[ApiKey, float, int], fresh)
    assert first_status == 200
    assert http.get(polled, headers=revoked_key.header).status_code == 200
    operator.revoke(revoked_key)
    # The server has just read this key: it trusts what it read for the cache time.
    time.sleep(CACHE_SECONDS)

    calls = endpoint_calls(reference_audio, alice_operations.v2, alice_operations.v3)
    valid_id = tenants.alice.key.partition(".")[0]
    refusals: list[tuple[str, dict[str, str], tuple[str, ...]]] = [
        ("no Authorization", {}, ("authorization",)),
        ("empty Authorization", {"Authorization": ""}, ("authorization",)),
        ("garbage API key", {"Authorization": "Api-Key not-a-key"}, ("api key",)),
        (
            "known key id, wrong secret",
            {"Authorization": f"Api-Key {valid_id}.{secrets.token_urlsafe(32)}"},
            ("api key",),
        ),
        ("unknown scheme", {"Authorization": f"Basic {tenants.alice.key}"}, ()),
        ("garbage IAM token", bearer("t1.garbage.garbage"), ("token",)),
        ("revoked key", revoked_key.header, ("revoked",)),
    ]
    for label, headers, fragments in refusals:
        for name, call in calls:
            answer = call(http, headers)
            assert answer.status_code == 401, (label, name, answer.text)
            assert_status(answer, 401, 16, *fragments)

    remaining = returned + lifetime + 1.5 - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    for name, call in calls:
        answer = call(http, expiring_key.header)
        assert answer.status_code == 401, ("expired key", name, answer.text)
        assert_status(answer, 401, 16, "expired")
    # None of the refused calls touched A's operations.
    assert (
        http.get(f"/operations/{alice_operations.v2}", headers=tenants.alice.header).status_code
        == 200
    )


@pytest.mark.timeout(300)
def test_roles_decide_where_an_account_may_act(tenants: Tenants, reference_audio: Path) -> None:
    operator, http, alice, bob = tenants.operator, tenants.http, tenants.alice, tenants.bob
    dave_id = operator.account(tenants.a_folder, "dave")
    dave = operator.key(dave_id)
    assert dave.folder_id == tenants.a_folder

    # No role at all: refused in its own folder, v2 and v3.
    assert_status(submit_v2(http, dave.header, reference_audio), 403, 7, STT_USER)
    assert_status(submit_v3(http, dave.header, reference_audio), 403, 7, STT_USER)
    # An account naming a folder where it holds no role.
    assert_status(
        submit_v2(http, alice.header, reference_audio, tenants.b_folder), 403, 7, STT_USER
    )
    assert_status(
        submit_v3(http, alice.header, reference_audio, tenants.b_folder), 403, 7, STT_USER
    )
    assert_status(submit_v2(http, dave.header, reference_audio, tenants.b_folder), 403, 7, STT_USER)

    operator.bind(dave_id, tenants.b_folder)
    by_v2 = operation_id(submit_v2(http, dave.header, reference_audio, tenants.b_folder))
    by_v3 = operation_id(submit_v3(http, dave.header, reference_audio, tenants.b_folder))
    try:
        # The role on B does not reach A, dave's own folder.
        assert_status(submit_v2(http, dave.header, reference_audio), 403, 7, STT_USER)
        for operation in (by_v2, by_v3):
            # The operations belong to folder B: B's member sees them, A's does not.
            seen = http.get(f"/operations/{operation}", headers=bob.header)
            assert seen.status_code == 200, seen.text
            assert seen.json()["id"] == operation, seen.text
            assert_status(
                http.get(f"/operations/{operation}", headers=alice.header), 404, 5, "not found"
            )
            for headers in (dave.header, {**dave.header, "x-folder-id": tenants.b_folder}):
                assert http.get(f"/operations/{operation}", headers=headers).status_code == 200
            in_a = http.get(
                f"/operations/{operation}",
                headers={**alice.header, "x-folder-id": tenants.a_folder},
            )
            assert_status(in_a, 404, 5, "not found")
    finally:
        for operation, headers in ((by_v2, bob.header), (by_v3, dave.header)):
            cancelled = http.post(f"/operations/{operation}:cancel", headers=headers)
            assert cancelled.status_code == 200, cancelled.text


@pytest.mark.timeout(300)
def test_sdk_jwt_exchanged_for_an_iam_token(
    tenants: Tenants, reference_audio: Path, tmp_path: Path
) -> None:
    http, alice = tenants.http, tenants.alice
    key_path = tmp_path / "key.json"
    key_file = tenants.operator.authorized_key(alice.account_id, key_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_file["service_account_id"] == alice.account_id
    assert key_file["key_algorithm"] == "RSA_2048"
    assert "PRIVATE KEY" in key_file["private_key"]
    assert "PUBLIC KEY" in key_file["public_key"]

    # The JWT exactly as the official SDK builds it from the key file (aud: the public service's URL).
    sdk_key = json.loads(key_path.read_text())
    sdk_jwt = ServiceAccountAuth(sdk_key, endpoint="api.cloud.yandex.net").get_token_request().jwt
    assert jwt.get_unverified_header(sdk_jwt)["kid"] == key_file["id"]
    before = datetime.now(UTC)
    answer = exchange(http, sdk_jwt)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"iamToken", "expiresAt"}, body
    SECRETS.append(body["iamToken"])
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert abs(expires - (before + timedelta(hours=12))) < timedelta(minutes=2), body

    token = bearer(body["iamToken"])
    submitted = operation_id(submit_v2(http, token, reference_audio))
    done = wait_done(http, submitted, token)
    assert word_errors(v2_text(done), JFK_REFERENCE) <= 1, done
    # The operation is folder A's: A's API key sees it, B's does not.
    assert http.get(f"/operations/{submitted}", headers=alice.header).status_code == 200
    assert_status(http.get(f"/operations/{submitted}", headers=tenants.bob.header), 404, 5)

    # The server's own token URL is an accepted audience too.
    own = sign_jwt(
        key_file["private_key"],
        key_file["id"],
        alice.account_id,
        f"{tenants.server.url}/iam/v1/tokens",
    )
    assert exchange(http, own).status_code == 200

    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    impostor_pem = impostor.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    refused = {
        "signed by another key with the same kid": (
            sign_jwt(impostor_pem, key_file["id"], alice.account_id),
            "signature",
        ),
        "wrong aud": (
            sign_jwt(
                key_file["private_key"],
                key_file["id"],
                alice.account_id,
                aud="https://iam.example.org/iam/v1/tokens",
            ),
            "aud",
        ),
        "expired": (
            sign_jwt(
                key_file["private_key"], key_file["id"], alice.account_id, iat=time.time() - 7200
            ),
            "expired",
        ),
        "iss of another account": (
            sign_jwt(key_file["private_key"], key_file["id"], tenants.bob.account_id),
            "iss",
        ),
        "unknown kid": (
            sign_jwt(key_file["private_key"], "ajeunknownkey0000000", alice.account_id),
            "unknown",
        ),
        "lifetime over an hour": (
            sign_jwt(key_file["private_key"], key_file["id"], alice.account_id, lifetime=7200),
            "exp",
        ),
        "RS256 rather than PS256": (
            sign_jwt(key_file["private_key"], key_file["id"], alice.account_id, algorithm="RS256"),
            "PS256",
        ),
    }
    for label, (token_text, fragment) in refused.items():
        answer = exchange(http, token_text)
        assert answer.status_code == 401, (label, answer.text)
        assert_status(answer, 401, 16, fragment)

    # A revoked authorized key signs nothing that is accepted any more.
    revoked = tenants.operator.run("keys", "authorized", "revoke", key_file["id"])
    assert key_file["id"] in revoked, revoked
    assert_status(exchange(http, sdk_jwt), 401, 16, "revoked")

    # A tampered IAM token: one character of its signed payload changed.
    payload, _, signature = body["iamToken"].removeprefix("t1.").partition(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for tampered in (f"t1.{flipped}.{signature}", body["iamToken"][:-3] + "xyz"):
        answer = http.get(f"/operations/{submitted}", headers=bearer(tampered))
        assert_status(answer, 401, 16, "token")
        assert_status(submit_v2(http, bearer(tampered), reference_audio), 401, 16, "token")


@pytest.mark.timeout(300)
def test_key_rotation_without_downtime(tenants: Tenants, alice_operations: AliceOperations) -> None:
    operator, http = tenants.operator, tenants.http
    old = operator.bootstrap("tenant-a", "erin")
    assert old.folder_id == tenants.a_folder
    polled = f"/operations/{alice_operations.v2}"
    keys: dict[str, str] = {"old": old.key}
    seen: list[tuple[str, float, float, int]] = []
    stop = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=tenants.server.url, timeout=30) as client:
            while not stop.is_set():
                for label, key in list(keys.items()):
                    started = time.monotonic()
                    status = client.get(polled, headers={"Authorization": f"Api-Key {key}"})
                    seen.append((label, started, time.monotonic(), status.status_code))
                time.sleep(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        rotate_started = time.monotonic()
        out = operator.run("keys", "rotate", old.id, "--grace", "30s")
        new = parse_key(out)
        assert new.id != old.id, out
        assert new.account_id == old.account_id, out
        keys["new"] = new.key
        # Both at once, straight after the rotation.
        for key in (old, new):
            assert http.get(polled, headers=key.header).status_code == 200
        time.sleep(1)
        revoke_started = time.monotonic()
        operator.revoke(old)
        revoke_done = time.monotonic()
        # The server read the old key a moment ago: it trusts it for the cache time, then refuses it.
        time.sleep(CACHE_SECONDS)
        assert_status(http.get(polled, headers=old.header), 401, 16, "api key")
        assert http.get(polled, headers=new.header).status_code == 200
        time.sleep(1)
    finally:
        stop.set()
        poller.join(30)
    # The old key had to work until the revocation began or its grace ran out, whichever came first.
    old_valid_until = min(revoke_started, rotate_started + 30)
    old_in_time = [s for label, _, end, s in seen if label == "old" and end < old_valid_until]
    old_after = [
        s for label, start, _, s in seen if label == "old" and start > revoke_done + CACHE_SECONDS
    ]
    new_all = [s for label, _, _, s in seen if label == "new"]
    assert len(old_in_time) >= 3, seen
    assert len(new_all) >= 3, seen
    assert old_after, seen
    assert set(old_in_time) == {200}, seen
    assert set(new_all) == {200}, seen
    assert set(old_after) == {401}, seen


@pytest.mark.timeout(300)
def test_audit_log_lists_credential_changes_and_refusals_without_secrets(
    tenants: Tenants, reference_audio: Path
) -> None:
    operator, http, alice = tenants.operator, tenants.http, tenants.alice
    storage_secret = f"storage-secret-{secrets.token_hex(16)}"
    SECRETS.append(storage_secret)
    # Folder B reads no storage links in these tests, so its credentials may point anywhere.
    probe_key, _ = at_once(
        lambda: operator.key(alice.account_id, "--description", "audit probe"),
        lambda: operator.run(
            "storage",
            "set",
            "--folder",
            "tenant-b",
            "--endpoint",
            "http://127.0.0.1:9",
            "--access-key-id",
            "AKIDAUDIT",
            extra_env={"ASYNCSTT_STORAGE_SECRET": storage_secret},
        ),
    )
    probe = cast(ApiKey, probe_key)
    operator.revoke(probe)
    assert_status(http.get("/operations/e03nothing", headers=probe.header), 401, 16)
    assert_status(submit_v2(http, alice.header, reference_audio, tenants.b_folder), 403, 7)

    out = operator.run("audit", "--limit", "1000")
    header, *lines = out.strip().splitlines()
    assert header.split("\t") == ["at", "actor", "action", "target", "outcome", "detail"], header
    rows = [line.split("\t") for line in lines]

    def has(actor: str | None, action: str, target: str | None, outcome: str) -> bool:
        return any(
            (actor is None or row[1] == actor)
            and row[2] == action
            and (target is None or target in row[3])
            and row[4] == outcome
            for row in rows
        )

    assert has("cli", "api_key.create", probe.id, "ok"), out
    assert has("cli", "api_key.revoke", probe.id, "ok"), out
    assert has("cli", "storage_credentials.set", tenants.b_folder, "ok"), out
    assert has(None, "request.denied", "/operations/", "unauthenticated"), out
    assert has(alice.account_id, "request.denied", "longRunningRecognize", "permission_denied"), out
    for row in rows:
        datetime.fromisoformat(row[0])
    leaked = [s for s in SECRETS if s and s in out]
    assert not leaked, "the audit log shows a secret"
    assert storage_secret not in out
    assert probe.key not in out


# --- two API processes on one PostgreSQL database -----------------------------------------------------------


@dataclass
class Pair:
    servers: tuple[ServeProcess, ServeProcess]
    operator: Operator
    http: tuple[httpx.Client, httpx.Client]
    accounts: dict[str, ApiKey] = field(default_factory=dict)


@pytest.fixture(scope="module")
def pair(
    serve_factory: Callable[..., ServeProcess],
    postgres_server: PostgresServer,
    postgres_template: str,
    tmp_path_factory: pytest.TempPathFactory,
    reference_audio: Path,
) -> Iterator[Pair]:
    database = postgres_server.url(postgres_server.create_database(template=postgres_template))
    env = {
        "ASYNCSTT_DATABASE_URL": database,
        "ASYNCSTT_IAM__SECRET_KEY": secrets.token_urlsafe(32),
        "ASYNCSTT_IAM__TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS),
        "ASYNCSTT_IAM__QUOTAS__SUBMITS_PER_HOUR": str(PAIR_QUOTAS["submits"]),
        "ASYNCSTT_IAM__QUOTAS__V2_POLLS_PER_HOUR": str(PAIR_QUOTAS["v2_polls"]),
        "ASYNCSTT_IAM__QUOTAS__V3_POLLS_PER_SECOND": str(PAIR_QUOTAS["v3_polls"]),
        "ASYNCSTT_EXECUTION__LOCAL_WORKERS": "1",
    }
    operator = Operator(tmp_path_factory.mktemp("pair-admin"), child_environment(env), database)
    # serve_factory makes a key for `default`/`sa-e2e` before each start: made here first, the two starts
    # below only add keys to that account and can run at once.
    first, _ = at_once(
        lambda: operator.bootstrap("quota", "p2"),
        lambda: operator.bootstrap("default", "sa-e2e"),
    )
    start = functools.partial(
        serve_factory,
        extra_env=env,
        args=["--database", database, "--file-root", str(reference_audio)],
    )
    names = ("p3", "sub", "other")
    one, two, *others = at_once(
        start, start, *(functools.partial(operator.bootstrap, "quota", n) for n in names)
    )
    servers = (cast(ServeProcess, one), cast(ServeProcess, two))
    accounts = {"p2": first} | {
        name: cast(ApiKey, key) for name, key in zip(names, others, strict=True)
    }
    with (
        httpx.Client(base_url=servers[0].url, timeout=30) as first_http,
        httpx.Client(base_url=servers[1].url, timeout=30) as second_http,
    ):
        yield Pair(servers, operator, (first_http, second_http), accounts)
    for server in servers:
        server.kill()  # nothing to finish gracefully: the database goes next
    postgres_server.drop_database(database.rsplit("/", 1)[1])


def _wait_for_window(seconds: int, margin: float) -> None:
    """Sleep past the end of the current epoch-aligned quota window when less than `margin` of it is left."""
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 0.05)


def assert_exhausted(answer: httpx.Response, window_seconds: int) -> None:
    assert_status(answer, 429, 8, "quota")
    retry_after = int(answer.headers["Retry-After"])
    assert 1 <= retry_after <= window_seconds, answer.headers


@pytest.mark.timeout(400)
def test_v2_poll_quota_is_shared_by_two_api_processes(pair: Pair, reference_audio: Path) -> None:
    p2, other = pair.accounts["p2"], pair.accounts["other"]
    _wait_for_window(3600, 60)
    submitted = operation_id(submit_v2(pair.http[0], p2.header, reference_audio))
    limit = PAIR_QUOTAS["v2_polls"]
    # The first poll cancels it, so that it does not keep the workers busy; a cancel spends a poll too.
    statuses = [pair.http[1].post(f"/operations/{submitted}:cancel", headers=p2.header).status_code]
    for i in range(1, limit + 2):
        statuses.append(
            pair.http[i % 2].get(f"/operations/{submitted}", headers=p2.header).status_code
        )
    assert statuses == [200] * limit + [429, 429], statuses
    for http in pair.http:
        assert_exhausted(http.get(f"/operations/{submitted}", headers=p2.header), 3600)
    # Another account of the same folder is not affected.
    for http in pair.http:
        assert http.get(f"/operations/{submitted}", headers=other.header).status_code == 200


@pytest.mark.timeout(400)
def test_v3_per_second_quota_is_shared_by_two_api_processes(
    pair: Pair, reference_audio: Path
) -> None:
    p3, other = pair.accounts["p3"], pair.accounts["other"]
    submitted = operation_id(submit_v3(pair.http[1], p3.header, reference_audio))
    cancelled = pair.http[0].post(f"/operations/{submitted}:cancel", headers=p3.header)
    assert cancelled.status_code == 200, cancelled.text
    limit = PAIR_QUOTAS["v3_polls"]
    burst = limit + 3

    def one(i: int) -> tuple[float, float, httpx.Response]:
        started = time.time()
        key = other if i == burst else p3
        answer = pair.http[i % 2].get(f"/operations/{submitted}", headers=key.header)
        return started, time.time(), answer

    for _attempt in range(5):
        time.sleep(1.02 - time.time() % 1)  # just after the start of a one-second window
        with ThreadPoolExecutor(burst + 1) as pool:
            results = list(pool.map(one, range(burst + 1)))
        windows = {int(start) for start, _, _ in results} | {int(end) for _, end, _ in results}
        if len(windows) == 1:
            break
    else:
        pytest.fail("no burst of requests fit in one second in 5 tries; the machine is too slow")
    answers = [answer for _, _, answer in results]
    mine = answers[:burst]
    assert sorted(a.status_code for a in mine) == [200] * limit + [429] * (burst - limit), [
        a.text for a in mine
    ]
    for answer in mine:
        if answer.status_code == 429:
            assert_exhausted(answer, 1)
    assert answers[burst].status_code == 200, answers[burst].text
    # The next second has a fresh window.
    time.sleep(1.05 - time.time() % 1)
    assert pair.http[0].get(f"/operations/{submitted}", headers=p3.header).status_code == 200


@pytest.mark.timeout(400)
def test_submit_quota_is_shared_by_two_api_processes(pair: Pair, reference_audio: Path) -> None:
    sub, other = pair.accounts["sub"], pair.accounts["other"]
    _wait_for_window(3600, 60)
    submits = [submit_v2, submit_v3]
    statuses = []
    for i in range(PAIR_QUOTAS["submits"] + 2):
        http = pair.http[i % 2]
        answer = submits[i % 2](http, sub.header, reference_audio)
        statuses.append(answer.status_code)
        if answer.status_code == 200:
            http.post(f"/operations/{answer.json()['id']}:cancel", headers=sub.header)
        else:
            assert_exhausted(answer, 3600)
    assert statuses == [200] * PAIR_QUOTAS["submits"] + [429, 429], statuses
    unaffected = submit_v2(pair.http[1], other.header, reference_audio)
    pair.http[1].post(f"/operations/{operation_id(unaffected)}:cancel", headers=other.header)


@pytest.mark.timeout(300)
def test_iam_token_works_on_every_process_and_expires(pair: Pair, tmp_path: Path) -> None:
    other = pair.accounts["other"]
    key_file = pair.operator.authorized_key(other.account_id, tmp_path / "key.json")
    sdk_jwt = ServiceAccountAuth(key_file, endpoint="api.cloud.yandex.net").get_token_request().jwt
    answer = exchange(pair.http[0], sdk_jwt)
    issued = time.monotonic()
    assert answer.status_code == 200, answer.text
    token = bearer(answer.json()["iamToken"])
    SECRETS.append(answer.json()["iamToken"])
    unknown = "/operations/e03" + "0" * 17
    # Issued by one process, accepted by the other (same server key): 404 for an unknown operation, not 401.
    assert_status(pair.http[1].get(unknown, headers=token), 404, 5)
    assert time.monotonic() - issued < TOKEN_TTL_SECONDS - 1.5, "too slow to see the token valid"
    expires = datetime.fromisoformat(answer.json()["expiresAt"].replace("Z", "+00:00"))
    left = (expires - datetime.now(UTC)).total_seconds()
    assert 0 < left <= TOKEN_TTL_SECONDS, answer.json()
    time.sleep(TOKEN_TTL_SECONDS + 1.5)
    for http in pair.http:
        assert_status(http.get(unknown, headers=token), 401, 16, "expired")
