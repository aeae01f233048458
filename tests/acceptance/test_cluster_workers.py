"""Cluster mode under fire, Dask side: API processes on one PostgreSQL, a real `dask scheduler` and `dask worker`s.

Workers are killed or stopped and the scheduler is restarted while operations run; every accepted operation must
still end SUCCEEDED exactly once, with the words an undisturbed run gives for the same audio. Each test prints how
long recovery took."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.acceptance.cluster_fleet import (
    Database,
    Fleet,
    Recordings,
    assert_succeeded_once,
    reference_text,
    submit,
    wait_all,
    wait_for,
)
from tests.support.dask_cluster import DaskCluster

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


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
