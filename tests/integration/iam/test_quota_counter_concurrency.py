"""Quota counts are atomic across processes: two API processes counting one window on one database."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier as ProcessBarrier
from queue import Empty

import pytest
from sqlalchemy import select

from asyncstt.iam.sql_counter import SqlQuotaCounter
from asyncstt.store.schema import quota_counters
from asyncstt.store.sql import SqlStore
from tests.factories import at

pytestmark = pytest.mark.integration

CALLS_PER_PROCESS = 150
WINDOW = at(0)


def _count_in_process(
    url: str, start: ProcessBarrier, out: multiprocessing.Queue[list[int]]
) -> None:
    store = SqlStore(url, migrate=False)
    counter = SqlQuotaCounter(store)
    start.wait()
    out.put(
        [counter.count_request("sa1", "submit", WINDOW, at(1)) for _ in range(CALLS_PER_PROCESS)]
    )
    store.close()


def test_two_processes_count_every_request_once(store_url: str) -> None:
    # Migrated here, so that the counting processes only count (a SQLite store URL names no file yet).
    SqlStore(store_url).close()
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    out: multiprocessing.Queue[list[int]] = context.Queue()
    processes = [
        context.Process(target=_count_in_process, args=(store_url, start, out)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    try:
        counts = [out.get(timeout=60), out.get(timeout=60)]
    except Empty:
        pytest.fail("a counting process gave no answer within 60 s")
    finally:
        for process in processes:
            process.join(timeout=30)
    assert [process.exitcode for process in processes] == [0, 0]
    calls = 2 * CALLS_PER_PROCESS
    # Each process sees its own counts rise, and together they handed out every count exactly once.
    assert all(seen == sorted(seen) for seen in counts)
    assert sorted(counts[0] + counts[1]) == list(range(1, calls + 1))
    store = SqlStore(store_url, migrate=False)
    with store.engine.connect() as connection:
        stored = connection.execute(select(quota_counters.c.count)).scalars().all()
    store.close()
    assert stored == [calls]
