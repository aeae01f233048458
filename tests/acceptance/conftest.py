"""End-to-end fixtures: real `asyncstt serve` processes, driven over HTTP like any client would.

Beside the shared server: the IAM tests' SQLite deployment with two tenant folders, and the cluster tests'
recordings, databases and fleets of API processes. The deployment and the recordings are package-scoped, so that
the several modules using them start and make them once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.acceptance.cluster_fleet import CLUSTER_ENV, Database, Fleet, Recordings
from tests.acceptance.iam_admin import Operator, at_once
from tests.acceptance.iam_requests import operation_id, submit_v2, submit_v3
from tests.acceptance.iam_tenants import CACHE_SECONDS, AliceOperations, Tenants
from tests.support.audio import read_wav_mono, write_wav
from tests.support.dask_cluster import DaskCluster
from tests.support.environment import child_environment
from tests.support.serve import ServeProcess

#: Small limits so every limit can be crossed with a short file.
SERVER_LIMITS = {
    "ASYNCSTT_LIMITS__MAX_DURATION_SECONDS": "40",
    "ASYNCSTT_LIMITS__MAX_FILE_BYTES": str(3 * 1024 * 1024),
    "ASYNCSTT_LIMITS__MAX_INLINE_BYTES": str(1024 * 1024),
}
#: Quotas far above what the flows here spend, since one server serves a whole module polling every 0.3 s (a v3
#: poll plus getRecognition can pass the default 5 per second); test_iam_two_processes.py crosses small
#: quotas of its own.
SERVER_QUOTAS = {
    "ASYNCSTT_IAM__QUOTAS__SUBMITS_PER_HOUR": "100000",
    "ASYNCSTT_IAM__QUOTAS__V2_POLLS_PER_HOUR": "1000000",
    "ASYNCSTT_IAM__QUOTAS__V3_POLLS_PER_SECOND": "1000",
}
DONE_TIMEOUT_SECONDS = 120.0


def wait_done(
    client: httpx.Client, operation_id: str, timeout: float = DONE_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """Poll once every 0.3 s, as a client does, until the operation is done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/operations/{operation_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["done"]:
            return body
        time.sleep(0.3)
    raise AssertionError(f"operation {operation_id} not done after {timeout} s")


@pytest.fixture(scope="session")
def serve_factory(
    tmp_path_factory: pytest.TempPathFactory, s3_server: Any
) -> Iterator[Callable[..., ServeProcess]]:
    started: list[ServeProcess] = []

    def start(
        extra_env: dict[str, str] | None = None, args: list[str] | None = None
    ) -> ServeProcess:
        data_dir = tmp_path_factory.mktemp("serve") / "data"
        env = child_environment(SERVER_LIMITS)
        env.update(SERVER_QUOTAS)
        env.update(
            {
                "ASYNCSTT_STORAGE__ENDPOINT_URL": s3_server.endpoint_url,
                "ASYNCSTT_STORAGE__ACCESS_KEY_ID": s3_server.access_key_id,
                "ASYNCSTT_STORAGE__SECRET_ACCESS_KEY": s3_server.secret_access_key,
                "ASYNCSTT_EXECUTION__LOCAL_WORKERS": "2",
                "ASYNCSTT_EXECUTION__SLICE_SECONDS": "20",
            }
        )
        env.update(extra_env or {})
        server = ServeProcess(data_dir=data_dir, env=env, args=args or [])
        server.data_dir.mkdir(parents=True)
        server.api_key = server.create_key()
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(serve_factory: Callable[..., ServeProcess], audio_fixtures: Any) -> ServeProcess:
    """The shared server: small limits, file:// links allowed under the audio fixtures' directory."""
    root = Path(audio_fixtures.jfk_wav).parent
    return serve_factory(args=["--file-root", str(root)])


@pytest.fixture
def client(server: ServeProcess) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


# --- the IAM tests' SQLite deployment: two tenants ------------------------------------------------------


@pytest.fixture(scope="package")
def iam_server(serve_factory: Callable[..., ServeProcess], reference_audio: Path) -> ServeProcess:
    # Tenancy, not quotas, is under test on this server: the 5/s v3 default would turn rapid 404s into 429s.
    return serve_factory(
        extra_env={
            "ASYNCSTT_IAM__QUOTAS__V3_POLLS_PER_SECOND": "1000",
            "ASYNCSTT_IAM__CACHE_SECONDS": str(CACHE_SECONDS),
        },
        args=["--file-root", str(reference_audio)],
    )


@pytest.fixture(scope="package")
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


@pytest.fixture(scope="package")
def alice_operations(tenants: Tenants, reference_audio: Path) -> AliceOperations:
    """A v2 (inline) and a v3 (file:// link) recognition of folder A, just submitted."""
    http, alice = tenants.http, tenants.alice
    return AliceOperations(
        v2=operation_id(submit_v2(http, alice.header, reference_audio)),
        v3=operation_id(submit_v3(http, alice.header, reference_audio)),
    )


# --- the cluster tests --------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def recordings(tmp_path_factory: pytest.TempPathFactory, reference_audio: Path) -> Recordings:
    root = tmp_path_factory.mktemp("cluster-audio")
    jfk = read_wav_mono(reference_audio / "jfk.wav")
    paths = []
    for name, times in (("once", 1), ("thrice", 3)):
        path = root / f"jfk-{name}.wav"
        write_wav(path, [np.tile(jfk, times)], 16000)
        paths.append(path)
    return Recordings(root, *paths)


@pytest.fixture
def cluster(dask_cluster_factory: Callable[..., DaskCluster]) -> DaskCluster:
    return dask_cluster_factory(workers=2, env=CLUSTER_ENV)


@pytest.fixture
def database(postgres_url: str) -> Database:
    return Database(postgres_url)


@pytest.fixture
def fleet(
    serve_factory: Callable[..., ServeProcess], database: Database, recordings: Recordings
) -> Iterator[Callable[[DaskCluster | None], Fleet]]:
    fleets: list[Fleet] = []

    def make(cluster: DaskCluster | None) -> Fleet:
        made = Fleet(serve_factory, database, cluster.address if cluster else None, recordings.root)
        fleets.append(made)
        return made

    yield make
    for made in fleets:
        made.stop()
