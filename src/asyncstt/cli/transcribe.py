"""`asyncstt transcribe`: one file through the real v2 API path, with a progress bar.

Without `--server` it starts an embedded server in this process for the duration of the call, creates a
key for itself in the data dir and submits a `file://` link; with `--server` it sends the bytes inline.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from asyncstt.settings import Settings

POLL_INTERVAL_SECONDS = 0.5


class TranscribeError(Exception):
    """The server refused the request or the operation failed; the message says why."""


@dataclass(frozen=True)
class TranscribeRequest:
    path: Path
    language: str = ""
    model: str = "general"
    encoding: str = "OGG_OPUS"
    sample_rate: int = 16000
    channels: int = 1
    literature_text: bool = False
    raw_results: bool = False
    profanity_filter: bool = False


def request_body(
    request: TranscribeRequest, *, uri: str | None = None, content: bytes | None = None
) -> dict[str, Any]:
    """A v2 longRunningRecognize body, spelled as SpeechKit's own documentation spells it."""
    specification: dict[str, Any] = {
        "model": request.model,
        "audioEncoding": request.encoding,
        "literature_text": request.literature_text,
        "rawResults": request.raw_results,
        "profanityFilter": request.profanity_filter,
    }
    if request.language:
        specification["languageCode"] = request.language
    if request.encoding == "LINEAR16_PCM":
        specification["sampleRateHertz"] = request.sample_rate
        specification["audioChannelCount"] = request.channels
    audio: dict[str, str] = (
        {"uri": uri} if uri is not None else {"content": base64.b64encode(content or b"").decode()}
    )
    return {"config": {"specification": specification}, "audio": audio}


class ApiClient:
    """The few v2 calls the command needs."""

    def __init__(self, base_url: str, api_key: str | None) -> None:
        headers = {"Authorization": f"Api-Key {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=60.0)

    def close(self) -> None:
        self._http.close()

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body: dict[str, Any] = response.json()
        except ValueError as error:
            raise TranscribeError(
                f"the server answered {response.status_code} with no JSON"
            ) from error
        if response.status_code != 200:
            raise TranscribeError(
                f"the server refused the request ({response.status_code}): {body.get('message')}"
            )
        return body

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json(self._http.post("/speech/stt/v2/longRunningRecognize", json=body))

    def get(self, operation_id: str) -> dict[str, Any]:
        return self._json(self._http.get(f"/operations/{operation_id}"))

    def wait(self, operation: dict[str, Any], console: Console) -> dict[str, Any]:
        """Poll until done, drawing the operation's progress metadata as a bar on stderr."""
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("queued", total=None)
            while not operation.get("done"):
                time.sleep(POLL_INTERVAL_SECONDS)
                operation = self.get(operation["id"])
                metadata = operation.get("metadata") or {}
                total = float(metadata.get("totalSeconds") or 0) or None
                bar.update(
                    task,
                    description=str(metadata.get("stage", "working")),
                    total=total,
                    completed=float(metadata.get("processedSeconds") or 0),
                )
        return operation


def transcribe(
    request: TranscribeRequest,
    settings: Settings,
    *,
    server: str | None = None,
    api_key: str | None = None,
) -> dict[str, Any]:
    """Submit, wait and return the finished operation's JSON."""
    console = Console(stderr=True)
    if server:
        data = request.path.read_bytes()
        limit = settings.limits.max_inline_bytes
        if len(data) > limit:
            raise TranscribeError(
                f"{request.path} is {len(data) / 1024**2:.0f} MB; inline audio is limited to "
                f"{limit / 1024**2:.0f} MB: put it in a bucket and submit the link"
            )
        client = ApiClient(server, api_key)
        try:
            return client.wait(client.submit(request_body(request, content=data)), console)
        finally:
            client.close()
    return _transcribe_embedded(request, settings, console)


def _transcribe_embedded(
    request: TranscribeRequest, settings: Settings, console: Console
) -> dict[str, Any]:
    from asyncstt.iam.admin import IdentityAdmin
    from asyncstt.server.process import Server, free_port

    path = request.path.resolve()
    settings = settings.model_copy(
        update={
            "port": free_port(settings.host),
            # The embedded server is reached over REST alone; it takes no port that another may want.
            "grpc": settings.grpc.model_copy(update={"port": 0}),
            "file_sources": settings.file_sources.model_copy(update={"root": path.parent}),
        }
    )
    with console.status("starting the embedded server and loading the model…"):
        server = Server(settings)
        server.__enter__()
    try:
        components = server.components
        admin = IdentityAdmin(components.identity, components.server_key, components.auditor)
        _, account = admin.bootstrap("default", "transcribe-cli")
        _, key = admin.create_api_key(account.id, description="asyncstt transcribe")
        client = ApiClient(server.url, key)
        try:
            return client.wait(client.submit(request_body(request, uri=path.as_uri())), console)
        finally:
            client.close()
    finally:
        server.__exit__(None, None, None)


def operation_text(operation: dict[str, Any]) -> str:
    """The text of a finished v2 operation, one line per channel for multi-channel audio."""
    if "error" in operation:
        error = operation["error"]
        return f"error {error.get('code')}: {error.get('message')}"
    chunks = operation.get("response", {}).get("chunks", [])
    by_channel: dict[str, list[str]] = {}
    for chunk in chunks:
        by_channel.setdefault(chunk["channelTag"], []).append(chunk["alternatives"][0]["text"])
    if len(by_channel) <= 1:
        return " ".join(text for texts in by_channel.values() for text in texts)
    return "\n".join(
        f"channel {tag}: {' '.join(texts)}" for tag, texts in sorted(by_channel.items())
    )
