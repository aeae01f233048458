"""How a slice's own failure comes back from a Dask worker: the caller's error (a bad file) once, without retries;
any other error after the configured retries, as itself, never taken for a slice the cluster lost. And the
environment local workers start in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from asyncstt.engines.allocator import ARENAS
from asyncstt.errors import InvalidArgument
from asyncstt.executor.dask import DaskExecutor
from asyncstt.settings import EngineSettings, ExecutionSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RETRIES = 2


def refuse_the_file(runs: Path) -> None:
    with runs.open("a") as file:
        file.write("run\n")
    raise InvalidArgument("the audio could not be decoded at 1.00 s: it stops there")


def fail_on_the_server(runs: Path) -> None:
    with runs.open("a") as file:
        file.write("run\n")
    raise RuntimeError("the engine broke")


@pytest.fixture(scope="module")
def executor() -> Iterator[DaskExecutor]:
    dask = DaskExecutor(
        ExecutionSettings(local_workers=1, slice_retries=RETRIES), EngineSettings(kind="fake")
    )
    try:
        yield dask
    finally:
        dask.close()


def test_the_callers_error_comes_back_once_without_retries(
    executor: DaskExecutor, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    handle = executor.submit(refuse_the_file, runs, priority=0, key="refused-slice")
    with pytest.raises(InvalidArgument, match="it stops there"):
        handle.result(timeout=60)
    assert runs.read_text().count("run") == 1
    assert handle.resubmits == 0


def test_a_server_fault_is_retried_then_reported_as_itself(
    executor: DaskExecutor, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    handle = executor.submit(fail_on_the_server, runs, priority=0, key="failing-slice")
    with pytest.raises(RuntimeError, match="the engine broke"):
        handle.result(timeout=60)
    assert runs.read_text().count("run") == 1 + RETRIES
    assert handle.resubmits == 0


def environment_of_the_worker(names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in names}


def test_local_workers_start_with_few_arenas_and_dasks_own_variables(
    executor: DaskExecutor,
) -> None:
    names = ("MALLOC_ARENA_MAX", "MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")
    handle = executor.submit(environment_of_the_worker, names, priority=0, key="environment")
    assert handle.result(timeout=60) == {
        "MALLOC_ARENA_MAX": str(ARENAS),
        "MALLOC_TRIM_THRESHOLD_": "65536",
        "OMP_NUM_THREADS": "1",
    }


def configuration_of_the_worker(keys: tuple[str, ...]) -> dict[str, object]:
    import dask

    return {key: dask.config.get(key) for key in keys}


def test_local_workers_skip_dasks_periodic_profiling_and_frequent_ticks(
    executor: DaskExecutor,
) -> None:
    keys = (
        "distributed.admin.tick.interval",
        "distributed.worker.profile.enabled",
        "distributed.admin.system-monitor.interval",
        "distributed.worker.memory.monitor-interval",
    )
    handle = executor.submit(configuration_of_the_worker, keys, priority=0, key="configuration")
    assert handle.result(timeout=60) == dict(zip(keys, ("1s", False, "5s", "1s"), strict=True))
