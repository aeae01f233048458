"""A real `asyncstt serve` child process, started and stopped as an operator would, for the end-to-end tier
and the cluster benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from asyncstt.server.process import free_port


@dataclass
class ServeProcess:
    """One `asyncstt serve` child process and an authenticated HTTP client for it.

    It serves no gRPC unless a test gives it a `grpc_port` (e.g. `free_port()`), so that parallel servers never
    fight over gRPC's default port; `args` may add the other `--grpc-*` flags.
    """

    data_dir: Path
    env: dict[str, str]
    args: list[str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    api_key: str = ""
    log_path: Path | None = None
    grpc_port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def grpc_address(self) -> str:
        """`127.0.0.1:<grpc_port>`; only with a `grpc_port`."""
        if not self.grpc_port:
            raise RuntimeError("this server was started without gRPC; give it a grpc_port")
        return f"127.0.0.1:{self.grpc_port}"

    def create_key(self, folder: str = "default", account: str = "sa-e2e") -> str:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "asyncstt.cli",
                "keys",
                "create",
                "--data-dir",
                str(self.data_dir),
                "--folder",
                folder,
                "--service-account",
                account,
            ],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip().splitlines()[-1]

    def start(self) -> None:
        self.log_path = self.data_dir.parent / f"serve-{self.port}.log"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "asyncstt.cli",
                "serve",
                "--data-dir",
                str(self.data_dir),
                "--port",
                str(self.port),
                "--grpc-port",
                str(self.grpc_port),
                *self.args,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"asyncstt serve exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"asyncstt serve did not answer: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the server and everything it started (its Dask workers too)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def client(self, api_key: str | None = None) -> httpx.Client:
        key = api_key if api_key is not None else self.api_key
        headers = {"Authorization": f"Api-Key {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)
