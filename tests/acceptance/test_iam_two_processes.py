"""Identity and access across processes: two `asyncstt serve` processes on one PostgreSQL database share request
quotas and IAM tokens, with identities set up with the admin command as an operator would."""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import httpx
import pytest
from yandexcloud._auth_fabric import ServiceAccountAuth

from tests.acceptance.iam_admin import SECRETS, ApiKey, Operator, at_once
from tests.acceptance.iam_requests import (
    assert_status,
    bearer,
    exchange,
    operation_id,
    submit_v2,
    submit_v3,
)
from tests.support.environment import child_environment
from tests.support.postgres import PostgresServer
from tests.support.serve import ServeProcess

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


#: Short enough to wait for, long enough to use a token on both processes first (expiry is in whole seconds).
TOKEN_TTL_SECONDS = 5
PAIR_QUOTAS = {"submits": 3, "v2_polls": 10, "v3_polls": 5}


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
