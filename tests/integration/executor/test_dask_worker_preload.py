"""Workers started the way operators start them: `dask worker --preload asyncstt.executor.worker` on a real scheduler.

Self-contained (its own scheduler and worker subprocesses on loopback), so it does not depend on the cluster
fixture of the kill/recovery tests.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
import yaml

from asyncstt.audio.probe import probe
from asyncstt.errors import Unavailable
from asyncstt.executor.dask import DaskExecutor, SliceHandle
from asyncstt.pipeline.plan import SliceSpec
from asyncstt.pipeline.task import SliceJob, SliceResult, recognise_slice
from asyncstt.recognition import AudioEncoding, RecognitionSpec
from asyncstt.server.process import free_port
from asyncstt.settings import EngineSettings, ExecutionSettings, LimitSettings
from tests.support.wer import JFK_REFERENCE, word_errors

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START_TIMEOUT_SECONDS = 90.0
#: How operators start a worker (docs/deploy.md, compose.yaml), less the addresses.
WORKER_ARGS = [
    "--preload", "asyncstt.executor.worker", "--preload-nanny", "asyncstt.executor.nanny",
    "--nthreads", "1", "--nworkers", "1",
]  # fmt: skip
COMPOSE = Path(__file__).resolve().parents[3] / "compose.yaml"
EXECUTOR_LOG = "asyncstt.executor.dask"


def loaded_engines() -> list[str]:
    """Runs on a worker: the settings of every engine its process has loaded."""
    from asyncstt.engines import catalog

    return list(catalog._engines)


def periodic_work(dask_worker: Any) -> dict[str, float]:
    """Runs on a worker or its nanny: the milliseconds between runs of each of its periodic callbacks."""
    return {name: pc.callback_time for name, pc in dask_worker.periodic_callbacks.items()}


# Workers cannot import the tests package: functions they run travel as code.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@dataclass
class Cluster:
    address: str
    dashboard_port: int
    worker_log: Path
    processes: list[subprocess.Popen[bytes]]


def start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def start_scheduler(port: int, dashboard_port: int, log: Path) -> subprocess.Popen[bytes]:
    return start(
        [
            "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
            "--dashboard-address", f"127.0.0.1:{dashboard_port}",
        ],
        log,
        {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"},
    )  # fmt: skip


def start_worker(address: str, workdir: Path, log: Path) -> subprocess.Popen[bytes]:
    return start(
        [
            "dask", "worker", address, *WORKER_ARGS,
            "--host", "127.0.0.1", "--no-dashboard", "--local-directory", str(workdir),
        ],
        log,
        {**os.environ, "ASYNCSTT_LOG_FORMAT": "json"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("dask")
    port, dashboard_port = free_port(), free_port()
    address = f"tcp://127.0.0.1:{port}"
    worker_log = workdir / "worker.log"
    processes = [
        start_scheduler(port, dashboard_port, workdir / "scheduler.log"),
        start_worker(address, workdir, worker_log),
    ]
    try:
        yield Cluster(address, dashboard_port, worker_log, processes)
    finally:
        for process in processes:
            stop(process)


@pytest.fixture
def executor(cluster: Cluster, caplog: pytest.LogCaptureFixture) -> Iterator[DaskExecutor]:
    caplog.set_level(logging.INFO, EXECUTOR_LOG)
    executor = DaskExecutor(
        ExecutionSettings(dask_address=cluster.address), EngineSettings(), connect_timeout=30
    )
    executor._client.wait_for_workers(1, timeout=START_TIMEOUT_SECONDS)
    try:
        yield executor
    finally:
        executor.close()


def jfk_job(reference_audio: Path, operation_id: str = "op-preload") -> SliceJob:
    audio = reference_audio / "jfk.wav"
    info = probe(audio, AudioEncoding.WAV, 16000, 1, LimitSettings())
    spec = RecognitionSpec(language="en-US")
    return SliceJob(
        operation_id, str(audio), info, SliceSpec(0, 0, 0.0, None), spec, "en-US", EngineSettings()
    )


def text_of(result: SliceResult) -> str:
    return " ".join(u.raw_text for u in result.utterances)


def json_lines(path: Path) -> list[dict[str, Any]]:
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


def test_the_worker_loads_the_engine_when_it_starts(
    cluster: Cluster, executor: DaskExecutor
) -> None:
    # The worker registers only after its preload finished, so before any slice ran.
    loaded = executor._client.run(loaded_engines)
    assert list(loaded.values()) == [[EngineSettings().model_dump_json()]]
    messages = [
        entry
        for entry in json_lines(cluster.worker_log)
        if entry.get("logger") == "asyncstt.executor.worker"
    ]
    assert any(
        entry["message"].startswith("loaded the faster-whisper model from")
        and entry["level"] == "INFO"
        for entry in messages
    ), cluster.worker_log.read_text()


def test_a_slice_runs_on_the_preloaded_worker(
    cluster: Cluster, executor: DaskExecutor, reference_audio: Path
) -> None:
    handle = executor.submit(recognise_slice, jfk_job(reference_audio), priority=100, key="slice-a")
    result = handle.result(timeout=120)
    assert word_errors(text_of(result), JFK_REFERENCE) <= 1, text_of(result)
    assert result.decoded_seconds == pytest.approx(11.0, abs=0.1)
    # The slice used the engine the preload loaded rather than loading a second one.
    assert list(executor._client.run(loaded_engines).values()) == [
        [EngineSettings().model_dump_json()]
    ]


def test_the_worker_and_its_nanny_keep_their_periodic_work_small(executor: DaskExecutor) -> None:
    client = executor._client
    workers, nannies = client.run(periodic_work), client.run(periodic_work, nanny=True)
    assert len(workers) == len(nannies) == 1
    for work in [*workers.values(), *nannies.values()]:
        # Dask's own: a tick every 20 ms, the system monitor every 500 ms.
        assert (work["tick"], work["monitor"]) == (1000, 5000), work
        assert "profile" not in work, work
    (worker,) = workers.values()
    assert worker["memory_monitor"] == 1000, worker


def test_connecting_logs_the_dashboard_link(
    cluster: Cluster, executor: DaskExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    link = f"http://127.0.0.1:{cluster.dashboard_port}/status"
    assert executor.dashboard_link == link
    messages = [r.getMessage() for r in caplog.get_records("setup") if r.name == EXECUTOR_LOG]
    assert f"connected to the Dask scheduler at {cluster.address}; dashboard: {link}" in messages
    # The scheduler runs with worker-saturation 1.0, so there is nothing to warn about.
    assert not [m for m in messages if "worker-saturation" in m]


def test_an_unreachable_scheduler_is_unavailable_within_the_timeout() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(Unavailable, match=address.replace(".", r"\.")):
        DaskExecutor(ExecutionSettings(dask_address=address), EngineSettings(), connect_timeout=2)
    assert time.monotonic() - started < 10


def test_a_slice_survives_a_scheduler_restart(
    cluster: Cluster, executor: DaskExecutor, reference_audio: Path, tmp_path: Path
) -> None:
    port = int(cluster.address.rsplit(":", 1)[1])
    handle = executor.submit(recognise_slice, jfk_job(reference_audio), priority=100, key="slice-b")
    assert isinstance(handle, SliceHandle)
    # A `dask worker` ends when its scheduler goes away; its supervisor starts it again, as this test does.
    for process in cluster.processes:
        stop(process)
    cluster.processes[:] = [
        start_scheduler(port, cluster.dashboard_port, tmp_path / "scheduler.log"),
        start_worker(cluster.address, tmp_path, tmp_path / "worker.log"),
    ]
    result = handle.result(timeout=120)
    assert handle.resubmits == 1
    assert word_errors(text_of(result), JFK_REFERENCE) <= 1, text_of(result)


def test_compose_starts_workers_and_scheduler_the_way_these_tests_do() -> None:
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    assert services["worker"]["command"] == ["dask", "worker", "tcp://scheduler:8786", *WORKER_ARGS]
    scheduler = services["scheduler"]
    assert scheduler["command"][:2] == ["dask", "scheduler"]
    assert scheduler["environment"]["DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"] == "1.0"
    # API processes and workers share the audio cache at the same path.
    data_dir = services["api-1"]["environment"]["ASYNCSTT_DATA_DIR"]
    for name in ("api-1", "api-2", "worker"):
        assert services[name]["environment"]["ASYNCSTT_DATA_DIR"] == data_dir
        assert f"asyncstt-data:{data_dir}" in services[name]["volumes"]
    for name in ("api-1", "api-2"):
        assert services[name]["command"][:2] == ["asyncstt", "serve"]
