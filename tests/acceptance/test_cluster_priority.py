"""Priorities in a deployment on PostgreSQL with one local worker: a standard operation overtakes a flood of
deferred ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.acceptance.cluster_fleet import Database, Fleet, Recordings, submit, wait_all, wait_for
from tests.support.dask_cluster import DaskCluster

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]


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
