"""Cluster mode under fire, API side: API processes on one PostgreSQL and a real Dask cluster.

An API process is killed or stopped while it runs operations; another takes them over, reusing the slices already
saved, and every operation still ends SUCCEEDED exactly once with the words an undisturbed run gives. Each test
prints how long recovery took."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from asyncstt.pipeline.slicer import MIN_SLICE_SHARE
from tests.acceptance.cluster_fleet import (
    SLICE_SECONDS,
    SNAP_SECONDS,
    Database,
    Fleet,
    Recordings,
    assert_succeeded_once,
    operation_text,
    reference_text,
    submit,
    wait_all,
    wait_for,
)
from tests.support.dask_cluster import DaskCluster
from tests.support.serve import ServeProcess

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


def processed_audio_seconds(server: ServeProcess) -> float:
    """The server's `asyncstt_audio_processed_seconds` counter: audio its own dispatcher had recognised."""
    body = httpx.get(f"{server.url}/metrics", timeout=10).text
    found = re.search(r"^asyncstt_audio_processed_seconds_total (\S+)$", body, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


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
    # Every saved slice is at least half a slice less the snap long: the first holds a whole one (at these slice
    # lengths, one Whisper window is more than a slice), those near the end half a slice or more.
    shortest = MIN_SLICE_SHARE * SLICE_SECONDS - SNAP_SECONDS
    most = total - saved * shortest + 0.5
    assert 0 < redone <= most, f"recognised {redone:.1f} s again, at most {most:.1f} s expected"


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
