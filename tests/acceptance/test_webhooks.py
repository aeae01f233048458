"""Webhooks end to end: a real `asyncstt serve` announces a finished operation to a receiver on this machine,
signed; a 500 is retried after the backoff, across a restart of the server; and `asyncstt webhooks add` refuses
a private address unless the operator allows them."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from asyncstt.server.process import free_port
from asyncstt.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.acceptance.conftest import wait_done
from tests.acceptance.iam_requests import jfk_v2_body
from tests.support.environment import child_environment
from tests.support.serve import ServeProcess

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

#: Long enough for a graceful stop to finish before the retry falls due, short enough for a test.
BACKOFF_SECONDS = 8.0
ALLOW_PRIVATE = "ASYNCSTT_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES"
WEBHOOK_ENV = {
    "ASYNCSTT_ENGINE__KIND": "fake",
    ALLOW_PRIVATE: "true",
    "ASYNCSTT_WEBHOOKS__BACKOFF_SECONDS": str(BACKOFF_SECONDS),
    "ASYNCSTT_WEBHOOKS__POLL_INTERVAL_SECONDS": "0.2",
}


@dataclass(frozen=True)
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 answering each POST with the next status (200 once none is left)."""

    statuses: list[int]
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/asyncstt"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.arrived:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.received.append(
                        Received(time.monotonic(), self.path, dict(self.headers.items()), body)
                    )
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        return Handler

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(
                    f"{len(self.received)} webhook requests after {timeout} s, not {count}"
                )
            return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(statuses=[500])
    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(10)


def _asyncstt(data_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asyncstt.cli", *args, "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _assert_signed(request: Received, secret: str) -> None:
    timestamp = int(request.headers[TIMESTAMP_HEADER])
    assert abs(time.time() - timestamp) < 120
    assert verify(secret, timestamp, request.body, request.headers[SIGNATURE_HEADER])


@pytest.mark.timeout(400)
def test_a_refused_delivery_is_retried_after_a_restart_and_signed(
    serve_factory: Callable[..., ServeProcess], receiver: Receiver, reference_audio: Path
) -> None:
    server = serve_factory(extra_env=WEBHOOK_ENV)
    added = _asyncstt(
        server.data_dir, server.env, "webhooks", "add", "--folder", "default", "--url", receiver.url
    )
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    with server.client() as client:
        response = client.post(
            "/speech/stt/v2/longRunningRecognize", json=jfk_v2_body(reference_audio)
        )
        assert response.status_code == 200, response.text
        operation_id = response.json()["id"]
        done = wait_done(client, operation_id)
    assert "error" not in done, done
    text = " ".join(c["alternatives"][0]["text"] for c in done["response"]["chunks"])
    assert text

    [refused] = receiver.wait_for(1, timeout=30)
    assert refused.path == "/hooks/asyncstt"
    assert refused.headers["Content-Type"] == "application/json"
    assert json.loads(refused.body) == {"id": operation_id, "done": True}
    assert text.encode() not in refused.body
    _assert_signed(refused, secret)

    server.stop()
    stopped_at = time.monotonic()
    assert len(receiver.received) == 1, "the retry came before the server had stopped"
    # The retry falls due while no server runs: only the outbox row carries it over.
    time.sleep(max(0.0, refused.at + BACKOFF_SECONDS + 1 - time.monotonic()))
    server.start()
    refused_then_taken = receiver.wait_for(2, timeout=60)
    taken = refused_then_taken[1]
    assert taken.at > stopped_at
    assert taken.at - refused.at >= BACKOFF_SECONDS
    assert taken.body == refused.body
    _assert_signed(taken, secret)

    listed = _asyncstt(server.data_dir, server.env, "webhooks", "list")
    assert listed.returncode == 0, listed.stderr
    [row] = [line.split("\t") for line in listed.stdout.splitlines()[1:]]
    assert row[1] == receiver.url
    assert row[3:] == ["0", "1", "0"]
    time.sleep(1)
    assert len(receiver.received) == 2


def test_a_private_address_is_refused_unless_allowed(receiver: Receiver, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    strict = child_environment()
    created = _asyncstt(data_dir, strict, "folders", "create", "acme")
    assert created.returncode == 0, created.stderr
    for url, refusal in (
        (receiver.url, "127.0.0.1 (loopback address)"),
        ("http://10.0.0.8/hook", "10.0.0.8 (private address)"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 (cloud metadata address)"),
    ):
        refused = _asyncstt(data_dir, strict, "webhooks", "add", "--folder", "acme", "--url", url)
        assert refused.returncode == 2
        assert refusal in refused.stderr
        assert "webhooks.allow_private_addresses" in refused.stderr
        assert refused.stdout == ""
    listed = _asyncstt(data_dir, strict, "webhooks", "list")
    assert listed.stdout.splitlines()[1:] == []
    allowed = _asyncstt(
        data_dir,
        {**strict, ALLOW_PRIVATE: "true"},
        *("webhooks", "add", "--folder", "acme", "--url", receiver.url),
    )
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip().splitlines()[-1].startswith("whsec_")
    assert receiver.received == []
