"""Cluster mode under fire: API processes on one PostgreSQL, a real `dask scheduler` and `dask worker`s.

Workers, API processes and the scheduler are killed while operations run; every accepted operation must still
end SUCCEEDED exactly once, with the words an undisturbed run gives for the same audio. Each test prints how
long recovery took. The texts are compared exactly: slices are recognised with a fixed sampling seed, so a
re-run slice gives the same words.
"""

from __future__ import annotations

import base64
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest

from tests.support.audio import read_wav_mono, write_wav
from tests.support.dask_cluster import DaskCluster
from tests.support.serve import ServeProcess
from tests.support.wer import JFK_REFERENCE, word_errors

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

SLICE_SECONDS = 8.0
#: Cut points move at most this far to find silence, so every slice but the last is 7 to 9 s long.
SNAP_SECONDS = 1.0
LEASE_SECONDS = 5.0
#: Settings of every API process and worker of these tests.
CLUSTER_ENV = {
    "ASYNCSTT_EXECUTION__SLICE_SECONDS": str(SLICE_SECONDS),
    "ASYNCSTT_EXECUTION__SNAP_WINDOW_SECONDS": str(SNAP_SECONDS),
    "ASYNCSTT_EXECUTION__LEASE_SECONDS": str(LEASE_SECONDS),
    "ASYNCSTT_EXECUTION__POLL_INTERVAL_SECONDS": "0.1",
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


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory, reference_audio: Path) -> Recordings:
    root = tmp_path_factory.mktemp("cluster-audio")
    jfk = read_wav_mono(reference_audio / "jfk.wav")
    paths = []
    for name, times in (("once", 1), ("thrice", 3)):
        path = root / f"jfk-{name}.wav"
        write_wav(path, [np.tile(jfk, times)], 16000)
        paths.append(path)
    return Recordings(root, *paths)


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


def track_recoveries(cluster: DaskCluster, kills: list[_Kill]) -> bool:
    """Note when each killed slice's result arrived; True while some are still outstanding."""
    waiting = [k for k in kills if k.recovered_after is None]
    if waiting:
        states = cluster.task_states([k.key for k in waiting])
        for kill in waiting:
            # `forgotten`: the dispatcher took the result and let the key go.
            if states[kill.key] in ("memory", "forgotten", "erred"):
                kill.recovered_after = time.monotonic() - kill.at
                kill.final_state = states[kill.key]
    return any(k.recovered_after is None for k in kills)


@dataclass
class _Kill:
    at: float
    worker: int
    key: str
    recovered_after: float | None = None
    final_state: str = ""


@pytest.mark.timeout(420)
def test_operations_survive_twenty_worker_kills(
    cluster: DaskCluster,
    fleet: Callable[[DaskCluster | None], Fleet],
    database: Database,
    recordings: Recordings,
) -> None:
    started = time.monotonic()
    servers = fleet(cluster)
    server = servers.start()
    rng = random.Random(6)
    with server.client() as client:
        references = {
            path: reference_text(client, recordings, path)
            for path in (recordings.once, recordings.thrice)
        }
        plan = [recordings.thrice] * 2 + [recordings.once] * 48
        rng.shuffle(plan)
        expected: dict[str, str] = {}
        for n, path in enumerate(plan):
            operation_id = submit(
                client, recordings.body(path, inline=path == recordings.once and n % 2 == 0)
            )
            expected[operation_id] = references[path]
        print(f"\n50 operations submitted {time.monotonic() - started:.1f} s into the test")

        kills: list[_Kill] = []
        killed_keys: set[str] = set()
        # Kills while slices run, at most 150 s of them; a worker is killed only once both are up.
        kill_deadline = time.monotonic() + 150
        seen_since: dict[tuple[int, str], float] = {}
        while len(kills) < 20 and time.monotonic() < kill_deadline:
            track_recoveries(cluster, kills)
            processing = cluster.processing()
            now = time.monotonic()
            running = {(i, key) for i, keys in processing.items() for key in keys}
            seen_since = {item: seen_since.get(item, now) for item in running}
            ready = len(processing) == cluster.workers and (not kills or now - kills[-1].at > 1.0)
            # Mid-slice: the worker has had the slice for a moment and still has it.
            candidates = [
                item
                for item, since in seen_since.items()
                if now - since >= 0.3 and item[1] not in killed_keys
            ]
            if ready and candidates:
                worker, key = rng.choice(sorted(candidates))
                cluster.kill_worker(worker)
                kills.append(_Kill(time.monotonic(), worker, key))
                killed_keys.add(key)
                seen_since.clear()
            time.sleep(0.05)
        kill_phase = time.monotonic() - started
        # The last kills' slices are still being redone: follow them a little longer.
        follow_until = time.monotonic() + 60
        while track_recoveries(cluster, kills) and time.monotonic() < follow_until:
            time.sleep(0.1)
        for n, kill in enumerate(kills, start=1):
            came = "not seen" if kill.recovered_after is None else f"{kill.recovered_after:5.1f} s"
            print(
                f"kill {n:2d}: worker {kill.worker}, slice {kill.key}: its result came "
                f"{came} after the kill ({kill.final_state})"
            )
        measured = sorted(k.recovered_after for k in kills if k.recovered_after is not None)
        if measured:
            print(
                f"recovery: median {measured[len(measured) // 2]:.1f} s, max {measured[-1]:.1f} s"
            )
        print(f"{len(kills)} kills done {kill_phase:.1f} s into the test")
        results = wait_all(
            client, list(expected), timeout=max(30.0, 390 - (time.monotonic() - started))
        )
    print(f"all 50 operations done {time.monotonic() - started:.1f} s into the test")
    assert len(kills) == 20, f"only {len(kills)} kills before the operations ran out"
    assert_succeeded_once(database, servers, results, expected)
    attempts = [row[3] for row in database.operations(list(expected)).values()]
    print(f"claims per operation: {dict(sorted((a, attempts.count(a)) for a in set(attempts)))}")


def processed_audio_seconds(server: ServeProcess) -> float:
    """The server's `asyncstt_audio_processed_seconds` counter: audio its own dispatcher had recognised."""
    body = httpx.get(f"{server.url}/metrics", timeout=10).text
    found = re.search(r"^asyncstt_audio_processed_seconds_total (\S+)$", body, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen in {timeout} s: {what}")
        time.sleep(0.05)


@pytest.mark.timeout(300)
def test_a_killed_api_process_is_replaced_without_redoing_finished_slices(
    cluster: DaskCluster,
    fleet: Callable[[DaskCluster | None], Fleet],
    database: Database,
    recordings: Recordings,
) -> None:
    servers = fleet(cluster)
    first = servers.start()
    with first.client() as client:
        reference = reference_text(client, recordings, recordings.thrice)
        operation_id = submit(client, recordings.body(recordings.thrice))
    # Mid-operation: some slices done (progress moved), others not.
    row: tuple[Any, ...] = ()

    def some_slices_done() -> bool:
        nonlocal row
        row = database.operations([operation_id])[operation_id]
        state, _, _, _, processed, total = row
        return bool(state == "RUNNING" and 0 < processed < total)

    wait_for(some_slices_done, 90, "a partly recognised operation")
    saved = database.checkpoints(operation_id)
    first.kill()
    killed_at = time.monotonic()
    processed_before, total = row[4], row[5]
    second = servers.start()
    with second.client() as client:
        done = wait_all(client, [operation_id], timeout=200)[operation_id]
    recovery = time.monotonic() - killed_at
    redone = processed_audio_seconds(second)
    print(
        f"\nAPI process killed with {processed_before:.1f} of {total:.1f} s recognised "
        f"({saved} slices saved); the new process finished the operation {recovery:.1f} s after the kill, "
        f"recognising {redone:.1f} s of audio itself"
    )
    assert "error" not in done, done
    assert operation_text(done) == reference
    state, owner, done_at, attempts, _, _ = database.operations([operation_id])[operation_id]
    assert (state, owner, attempts) == ("SUCCEEDED", None, 2)
    assert done_at is not None
    assert_succeeded_once(database, servers, {operation_id: done}, {operation_id: reference})
    assert saved >= 1, "progress moved but no finished slice was saved in slice_results"
    assert database.checkpoints(operation_id) == 0, "saved slices outlived the operation"
    assert second.log_path is not None
    reused = re.search(
        rf"{operation_id}: (\d+) of (\d+) slices were saved by an earlier attempt",
        second.log_path.read_text(errors="replace"),
    )
    assert reused is not None, "the new process did not take up the saved slices"
    assert int(reused.group(1)) >= saved, reused.group(0)
    # Every saved slice but the last is at least SLICE_SECONDS - SNAP_SECONDS long.
    most = total - saved * (SLICE_SECONDS - SNAP_SECONDS) + 0.5
    assert 0 < redone <= most, f"recognised {redone:.1f} s again, at most {most:.1f} s expected"


@pytest.mark.timeout(300)
def test_a_worker_stopped_with_sigterm_leaves_its_slices_to_the_others(
    cluster: DaskCluster,
    fleet: Callable[[DaskCluster | None], Fleet],
    database: Database,
    recordings: Recordings,
) -> None:
    servers = fleet(cluster)
    server = servers.start()
    with server.client() as client:
        reference = reference_text(client, recordings, recordings.thrice)
        expected = {submit(client, recordings.body(recordings.thrice)): reference for _ in range(3)}
        busy: dict[int, tuple[str, ...]] = {}

        def a_worker_is_busy() -> bool:
            nonlocal busy
            busy = {i: keys for i, keys in cluster.processing().items() if keys}
            return bool(busy)

        wait_for(a_worker_is_busy, 60, "slices on the workers")
        index, keys = next(iter(busy.items()))
        sigterm_at = time.monotonic()
        status = cluster.terminate_worker(index)
        stopped = time.monotonic() - sigterm_at
        left = cluster.processing()
        first_done: dict[str, float] = {}
        done = wait_all(client, list(expected), timeout=240, first_done=first_done)
        cluster.start_worker(index)
    print(
        f"\nworker {index} stopped {stopped:.1f} s after SIGTERM while running {list(keys)}; the other "
        f"worker finished all {len(expected)} operations {max(first_done.values()) - sigterm_at:.1f} s "
        "after it"
    )
    assert status == 0, f"dask worker exited with {status}:\n{cluster.log_tail(f'worker-{index}')}"
    assert index not in left, left
    assert any(at > sigterm_at for at in first_done.values()), "all finished before the SIGTERM"
    assert_succeeded_once(database, servers, done, expected)


@pytest.mark.timeout(300)
def test_operations_survive_a_scheduler_restart(
    cluster: DaskCluster,
    fleet: Callable[[DaskCluster | None], Fleet],
    database: Database,
    recordings: Recordings,
) -> None:
    servers = fleet(cluster)
    server = servers.start()
    with server.client() as client:
        references = {
            path: reference_text(client, recordings, path)
            for path in (recordings.once, recordings.thrice)
        }
        plan = [recordings.thrice, recordings.once] * 2
        expected = {submit(client, recordings.body(path)): references[path] for path in plan}
        wait_for(lambda: any(cluster.processing().values()), 60, "slices on the workers")
        restart_started = time.monotonic()
        cluster.restart_scheduler()
        restarted = time.monotonic()
        first_done: dict[str, float] = {}
        done = wait_all(client, list(expected), timeout=240, first_done=first_done)
    unfinished = [i for i, at in first_done.items() if at > restart_started]
    print(
        f"\nscheduler and workers back {restarted - restart_started:.1f} s after the kill; "
        f"{len(unfinished)} operations were still running then and finished "
        f"{max(first_done.values()) - restart_started:.1f} s after it"
    )
    assert unfinished, "every operation finished before the scheduler went away: nothing was shown"
    assert_succeeded_once(database, servers, done, expected)


@pytest.mark.timeout(300)
def test_a_standard_operation_overtakes_a_deferred_flood(
    fleet: Callable[[DaskCluster | None], Fleet], database: Database, recordings: Recordings
) -> None:
    servers = fleet(None)
    # One local worker: the flood keeps it busy far longer than one slice.
    server = servers.start(args=["--workers", "1"])
    deferred_body = recordings.body(recordings.once, inline=True, model="deferred-general")
    with server.client() as client:
        deferred = [submit(client, deferred_body) for _ in range(10)]
        wait_for(
            lambda: "RUNNING" in {row[0] for row in database.operations(deferred).values()},
            60,
            "the flood being worked on",
        )
        standard = submit(client, recordings.body(recordings.once, inline=True))
        waiting = [i for i, row in database.operations(deferred).items() if row[0] == "QUEUED"]
        done = wait_all(client, [*deferred, standard], timeout=240)
    assert all("error" not in operation for operation in done.values()), done
    done_at = {i: row[2] for i, row in database.operations([*deferred, standard]).items()}
    ahead = sorted(i for i in deferred if done_at[i] < done_at[standard])
    print(
        f"\n{len(waiting)} of {len(deferred)} deferred operations were queued when the standard one came; "
        f"{len(ahead)} deferred ones finished before it"
    )
    assert waiting, "the flood was too small: nothing deferred was still waiting"
    overtaken_by = [i for i in waiting if done_at[i] < done_at[standard]]
    assert not overtaken_by, f"queued deferred operations finished first: {overtaken_by}"
    assert len(ahead) < len(deferred) / 2


@pytest.mark.timeout(300)
def test_a_stopped_api_process_hands_its_operations_to_another(
    cluster: DaskCluster,
    fleet: Callable[[DaskCluster | None], Fleet],
    database: Database,
    recordings: Recordings,
) -> None:
    servers = fleet(cluster)
    # A lease far longer than the test: only a hand-back lets the other process take the work over.
    long_lease = {"ASYNCSTT_EXECUTION__LEASE_SECONDS": "600"}
    pair = [servers.start(extra_env=long_lease), servers.start(extra_env=long_lease)]
    with pair[0].client() as client:
        reference = reference_text(client, recordings, recordings.thrice)
        ids = [submit(client, recordings.body(recordings.thrice)) for _ in range(4)]
    running: dict[str, str] = {}

    def some_running() -> bool:
        nonlocal running
        rows = database.operations(ids)
        running = {i: row[1] for i, row in rows.items() if row[0] == "RUNNING"}
        return bool(running)

    def claimed_by(server: ServeProcess, operation_id: str) -> bool:
        assert server.log_path is not None
        return f"claimed {operation_id}" in server.log_path.read_text(errors="replace")

    wait_for(some_running, 60, "operations running")
    # Stop the process that holds the first running operation; its log says which one that is.
    first_id, owner = next(iter(running.items()))
    wait_for(lambda: any(claimed_by(s, first_id) for s in pair), 5, f"the log line of {first_id}")
    stopping = next(s for s in pair if claimed_by(s, first_id))
    other = pair[1 - pair.index(stopping)]
    held = [i for i, o in running.items() if o == owner]
    sigterm_at = time.monotonic()
    stopping.stop()
    stopped = time.monotonic() - sigterm_at
    assert stopping.process is not None
    assert stopping.process.returncode == 0, stopping.process.returncode
    rows = database.operations(ids)
    left_running = [i for i, row in rows.items() if row[0] == "RUNNING" and row[1] == owner]
    handed_back = [i for i in held if rows[i][0] != "SUCCEEDED"]
    with other.client() as client:
        done = wait_all(client, ids, timeout=240)
    print(
        f"\nan API process stopped {stopped:.1f} s after SIGTERM; {len(handed_back)} of the {len(held)} "
        f"operations it held were not done then, and the other process finished all {len(ids)} "
        f"{time.monotonic() - sigterm_at:.1f} s after the SIGTERM"
    )
    assert not left_running, f"RUNNING under the stopped process {owner}: {left_running}"
    assert handed_back, "everything finished before the stop: nothing was handed back"
    assert_succeeded_once(database, servers, done, dict.fromkeys(ids, reference))
    attempts = database.operations(handed_back)
    assert all(attempts[i][3] >= 2 for i in handed_back), attempts
