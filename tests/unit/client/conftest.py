"""The client against the real REST routes, in process: the HTTP tests' app over the in-memory twins.

`Client` goes through the app's starlette TestClient (a client of httpx's fork, httpx2, so it is wrapped as an
httpx transport); `AsyncClient` through httpx's ASGITransport. `Server` moves operations along as a dispatcher would, on the harness's store.
"""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from asyncstt.client import AsyncClient, Client
from asyncstt.errors import ErrorInfo
from asyncstt.operation import Operation, Progress
from asyncstt.recognition import Transcript
from tests.unit.http.conftest import FOLDER, Harness, harness, make_harness

__all__ = ["FOLDER", "harness", "make_harness"]

WORKER = "worker"
URL = "http://testserver"


def api_key(harness: Harness) -> str:
    return harness.headers["Authorization"].removeprefix("Api-Key ")


def wav_bytes(seconds: float = 0.25, rate: int = 16000) -> bytes:
    """A silent mono 16-bit WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(rate)
        output.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


class InProcessTransport(httpx.BaseTransport):
    """Carries httpx requests through a starlette TestClient, so the app answers them in process."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.client.request(
            request.method,
            str(request.url),
            headers=dict(request.headers),
            content=request.read(),
        )
        return httpx.Response(
            answer.status_code,
            headers=[(k, v) for k, v in answer.headers.multi_items() if k != "content-encoding"],
            content=answer.content,
        )


def sync_http(harness: Harness) -> httpx.Client:
    """An httpx client whose requests the harness's app answers."""
    return httpx.Client(transport=InProcessTransport(harness.client))


@dataclass
class Server:
    """Drives operations of the harness's store through their states."""

    harness: Harness

    def operation(self, operation_id: str) -> Operation:
        operation = self.harness.store.get(operation_id)
        assert operation is not None
        return operation

    def start(self) -> None:
        self.harness.clock.advance(1)
        assert self.harness.store.claim(WORKER, 30, self.harness.clock()) is not None

    def progress(self, operation_id: str, processed: float, total: float, stage: str) -> None:
        self.harness.clock.advance(1)
        assert self.harness.store.set_progress(
            operation_id, WORKER, Progress(processed, total, stage), self.harness.clock()
        )

    def finish(self, operation_id: str, result: Transcript) -> None:
        self.harness.clock.advance(1)
        assert self.harness.store.finish(operation_id, WORKER, self.harness.clock(), result=result)

    def fail(self, operation_id: str, code: int, message: str) -> None:
        self.harness.clock.advance(1)
        assert self.harness.store.finish(
            operation_id, WORKER, self.harness.clock(), error=ErrorInfo(code, message)
        )


@pytest.fixture
def server(harness: Harness) -> Server:
    return Server(harness)


@pytest.fixture
def client(harness: Harness) -> Iterator[Client]:
    with sync_http(harness) as http, Client(URL, api_key=api_key(harness), http=http) as opened:
        yield opened


@pytest.fixture
async def async_client(harness: Harness) -> AsyncIterator[AsyncClient]:
    transport = httpx.ASGITransport(app=harness.client.app)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        AsyncClient(URL, api_key=api_key(harness), http=http) as opened,
    ):
        yield opened


@pytest.fixture
def wav_file(tmp_path: Path) -> Path:
    path = tmp_path / "call.wav"
    path.write_bytes(wav_bytes())
    return path
