"""End-to-end fixtures: a real `asyncstt serve` process, driven over HTTP like any client would."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.environment import child_environment
from tests.support.serve import ServeProcess

#: Small limits so every limit can be crossed with a short file.
SERVER_LIMITS = {
    "ASYNCSTT_LIMITS__MAX_DURATION_SECONDS": "40",
    "ASYNCSTT_LIMITS__MAX_FILE_BYTES": str(3 * 1024 * 1024),
    "ASYNCSTT_LIMITS__MAX_INLINE_BYTES": str(1024 * 1024),
}
#: Quotas far above what the flows here spend, since one server serves a whole module polling every 0.3 s (a v3
#: poll plus getRecognition can pass the default 5 per second); test_iam_flow.py crosses the real defaults.
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
