"""What the cluster tests share: API processes on one PostgreSQL database (optionally with a Dask scheduler),
the recordings they recognise, direct reads of the database, and the check that every operation SUCCEEDED exactly
once with the words an undisturbed run gives.

The texts are compared exactly: slices are recognised with a fixed sampling seed, so a re-run slice gives the same
words. The fixtures (`recordings`, `cluster`, `database`, `fleet`) are in `conftest.py`."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.support.serve import ServeProcess
from tests.support.wer import JFK_REFERENCE, word_errors

SLICE_SECONDS = 8.0
#: Cut points move at most this far to find silence, so every slice is 7 to 9 s long, but those near the end, which
#: hold a quarter of the work left or half a slice, and the last.
SNAP_SECONDS = 1.0
LEASE_SECONDS = 5.0
#: Settings of every API process and worker of these tests.
CLUSTER_ENV = {
    "ASYNCSTT_EXECUTION__SLICE_SECONDS": str(SLICE_SECONDS),
    "ASYNCSTT_EXECUTION__SNAP_WINDOW_SECONDS": str(SNAP_SECONDS),
    "ASYNCSTT_EXECUTION__LEASE_SECONDS": str(LEASE_SECONDS),
    "ASYNCSTT_EXECUTION__POLL_INTERVAL_SECONDS": "0.1",
    "ASYNCSTT_EXECUTION__IDLE_POLL_INTERVAL_SECONDS": "0.5",
    # These tests poll hundreds of operations several times a second.
    "ASYNCSTT_IAM__QUOTAS__ENABLED": "false",
}
SUBMIT = "/speech/stt/v2/longRunningRecognize"


@dataclass(frozen=True)
class Recordings:
    """jfk once (one slice) and three times (four or five slices), under one file root."""

    root: Path
    once: Path
    thrice: Path

    def body(self, path: Path, inline: bool = False, model: str = "general") -> dict[str, Any]:
        audio = (
            {"content": base64.b64encode(path.read_bytes()).decode()}
            if inline
            else {"uri": path.as_uri()}
        )
        spec = {"languageCode": "en-US", "model": model}
        return {"config": {"specification": spec}, "audio": audio}


#: Text of an undisturbed operation, by audio file; filled by the first test that needs one.
_REFERENCE: dict[Path, str] = {}


def operation_text(operation: dict[str, Any]) -> str:
    chunks = operation.get("response", {}).get("chunks", [])
    return " ".join(c["alternatives"][0]["text"] for c in chunks)


def reference_text(client: httpx.Client, recordings: Recordings, path: Path) -> str:
    """What an undisturbed operation gives for `path`, recognised once per test session."""
    if path not in _REFERENCE:
        operation_id = submit(client, recordings.body(path))
        done = wait_all(client, [operation_id], timeout=200)[operation_id]
        assert "error" not in done, done
        text = operation_text(done)
        times = {recordings.once: 1, recordings.thrice: 3}[path]
        # A sanity bound only: the exact comparison is against this text.
        assert word_errors(text, " ".join([JFK_REFERENCE] * times)) <= times, text
        _REFERENCE[path] = text
    return _REFERENCE[path]


def submit(client: httpx.Client, body: dict[str, Any]) -> str:
    response = client.post(SUBMIT, json=body)
    assert response.status_code == 200, response.text
    operation_id: str = response.json()["id"]
    return operation_id


def wait_all(
    client: httpx.Client, ids: list[str], timeout: float, first_done: dict[str, float] | None = None
) -> dict[str, dict[str, Any]]:
    """Poll every operation until all are done; `first_done` gets the moment each was first seen done."""
    deadline = time.monotonic() + timeout
    done: dict[str, dict[str, Any]] = {}
    while len(done) < len(ids):
        for operation_id in ids:
            if operation_id in done:
                continue
            response = client.get(f"/operations/{operation_id}")
            assert response.status_code == 200, response.text
            body = response.json()
            if body["done"]:
                done[operation_id] = body
                if first_done is not None:
                    first_done[operation_id] = time.monotonic()
        if len(done) < len(ids):
            if time.monotonic() > deadline:
                missing = [i for i in ids if i not in done]
                raise AssertionError(
                    f"{len(missing)} operations not done after {timeout} s: {missing}"
                )
            time.sleep(0.2)
    return done


class Database:
    """Direct reads of the deployment's PostgreSQL store."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._dsn = url.replace("postgresql+psycopg://", "postgresql://")

    def rows(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(self._dsn, autocommit=True) as connection:
            return connection.execute(query, params).fetchall()

    def operations(self, ids: list[str]) -> dict[str, tuple[Any, ...]]:
        """(state, lease_owner, done_at, attempts, processed_seconds, total_seconds) by id."""
        rows = self.rows(
            "SELECT id, state, lease_owner, done_at, attempts, processed_seconds, total_seconds "
            "FROM operations WHERE id = ANY(%s)",
            ids,
        )
        return {row[0]: row[1:] for row in rows}

    def checkpoints(self, operation_id: str) -> int:
        return int(
            self.rows("SELECT count(*) FROM slice_results WHERE operation_id = %s", operation_id)[
                0
            ][0]
        )


@dataclass
class Fleet:
    """The API processes of one test, on one database and one Dask scheduler; all stopped at its end."""

    serve_factory: Callable[..., ServeProcess]
    database: Database
    dask_address: str | None
    root: Path
    servers: list[ServeProcess] = field(default_factory=list)

    def start(
        self, extra_env: dict[str, str] | None = None, args: list[str] | None = None
    ) -> ServeProcess:
        env = {**CLUSTER_ENV, "ASYNCSTT_DATABASE_URL": self.database.url, **(extra_env or {})}
        cluster = ["--dask", self.dask_address] if self.dask_address else []
        server = self.serve_factory(
            extra_env=env,
            args=["--database", self.database.url, *cluster, "--file-root", str(self.root)]
            + (args or []),
        )
        self.servers.append(server)
        return server

    def logs(self) -> str:
        return "".join(
            s.log_path.read_text(errors="replace") for s in self.servers if s.log_path is not None
        )

    def stop(self) -> None:
        for server in self.servers:
            server.kill()


def assert_succeeded_once(
    database: Database,
    fleet: Fleet,
    done: dict[str, dict[str, Any]],
    expected: dict[str, str],
) -> None:
    """Every operation SUCCEEDED with its expected text, was finished by exactly one dispatcher, and
    still reads the same now as when it was first seen done."""
    rows = database.operations(list(expected))
    failed = {i: done[i].get("error") for i in expected if "error" in done[i]}
    assert not failed, f"{len(failed)} operations failed: {failed}"
    assert {i: row[0] for i, row in rows.items()} == dict.fromkeys(expected, "SUCCEEDED")
    wrong = {i: operation_text(done[i]) for i in expected if operation_text(done[i]) != expected[i]}
    assert not wrong, f"{len(wrong)} texts differ from an undisturbed run: {wrong}"
    logs = fleet.logs()
    finishes = {i: len(re.findall(rf"finished {re.escape(i)}\b", logs)) for i in expected}
    assert set(finishes.values()) == {1}, {i: n for i, n in finishes.items() if n != 1}
    alive = next(s for s in fleet.servers if s.process is not None and s.process.poll() is None)
    with alive.client() as client:
        again = {i: client.get(f"/operations/{i}").json() for i in expected}
    changed = [i for i in expected if again[i] != done[i]]
    assert not changed, f"operations changed after they were first seen done: {changed}"


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen in {timeout} s: {what}")
        time.sleep(0.05)
