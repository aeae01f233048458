"""A real Dask cluster for the cluster-mode tests: one `dask scheduler` and N `dask worker` processes.

A pytest plugin (loaded by `tests/conftest.py`) with the fixture `dask_cluster_factory`. Each worker command
runs a nanny (the `dask worker` process itself) that starts the worker as its child, so a SIGKILL of the
worker, as `kill_worker(i)` sends, is a crash the nanny answers by starting a fresh worker, the way a machine
losing its worker process would recover. Ports are fixed per worker, so worker `i` keeps its address across
such restarts. Every process is killed at teardown, whatever happened in the test.

    cluster = dask_cluster_factory(workers=2, env={"ASYNCSTT_ENGINE__BEAM_SIZE": "1"})
    cluster.kill_worker(0)          # SIGKILL the worker process, not the nanny
    cluster.restart_scheduler()     # same port; worker commands that ended with it are started again
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cloudpickle
import psutil
import pytest

from asyncstt.server.process import free_port
from tests.support.environment import child_environment

#: The module a worker preloads to load the engine at start; workers go without it until it exists.
WORKER_PRELOAD = "asyncstt.executor.worker"
#: The module each worker command's nanny preloads, as docs/deploy.md starts workers.
NANNY_PRELOAD = "asyncstt.executor.nanny"
_START_TIMEOUT_SECONDS = 180.0
#: Every process group started here, so that even an interpreter that dies in a test leaves none running.
_ALL_GROUPS: set[int] = set()
#: Standard slices go strictly before deferred ones only if no worker holds a queue of its own.
STRICT_PRIORITIES = {"DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    _ALL_GROUPS.discard(pid)


@atexit.register
def _kill_leftovers() -> None:
    for pid in list(_ALL_GROUPS):
        _kill_group(pid)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _task_states(keys: list[str], dask_scheduler: Any = None) -> dict[str, str]:
    # Runs on the scheduler, pickled by value: it may use nothing of this module.
    tasks = dask_scheduler.tasks
    return {key: tasks[key].state if key in tasks else "forgotten" for key in keys}


# The scheduler cannot import the tests package: functions it runs travel as code, not as references.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@dataclass
class _WorkerCommand:
    """One `dask worker` command: a nanny with one worker process, on fixed ports."""

    index: int
    worker_port: int
    nanny_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.worker_port}"


@dataclass
class DaskCluster:
    """A scheduler and `workers` worker commands on loopback; `env` is what they all run with."""

    workdir: Path
    env: Mapping[str, str]
    workers: int = 2
    preload: str | None = WORKER_PRELOAD
    scheduler_port: int = field(default_factory=free_port)
    _scheduler: subprocess.Popen[bytes] | None = None
    _commands: list[_WorkerCommand] = field(default_factory=list)
    _client: Any = None

    @property
    def address(self) -> str:
        """The scheduler's address, for `asyncstt serve --dask`."""
        return f"tcp://127.0.0.1:{self.scheduler_port}"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._start_scheduler()
        self._commands = [_WorkerCommand(i, free_port(), free_port()) for i in range(self.workers)]
        for command in self._commands:
            self._start_worker(command)
        self.wait_for_workers()

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                env=dict(self.env),
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        _ALL_GROUPS.add(process.pid)
        return process

    def _start_scheduler(self) -> None:
        self._scheduler = self._spawn(
            "scheduler",
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.scheduler_port),
                "--no-dashboard",
            ],
        )
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not _port_open(self.scheduler_port):
            if self._scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dask scheduler did not start:\n{self.log_tail('scheduler')}")
            time.sleep(0.1)

    def _start_worker(self, command: _WorkerCommand) -> None:
        args = [
            "worker",
            self.address,
            "--nthreads",
            "1",
            "--nworkers",
            "1",
            "--host",
            "127.0.0.1",
            "--worker-port",
            str(command.worker_port),
            "--nanny-port",
            str(command.nanny_port),
            "--name",
            f"worker-{command.index}",
            "--no-dashboard",
            "--memory-limit",
            "0",
            "--local-directory",
            str(self.workdir / f"worker-{command.index}"),
            "--preload-nanny",
            NANNY_PRELOAD,
        ]
        if self.preload:
            args += ["--preload", self.preload]
        command.process = self._spawn(f"worker-{command.index}", args)

    def client(self) -> Any:
        """A `distributed.Client` of this test process, kept until the scheduler is restarted."""
        if self._client is None:
            from distributed import Client

            self._client = Client(self.address, timeout=30, set_as_default=False)  # type: ignore[no-untyped-call]
        return self._client

    def _close_client(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close(timeout=5)
            self._client = None

    def wait_for_workers(self, timeout: float = _START_TIMEOUT_SECONDS) -> None:
        """Until every worker command has a worker registered with the scheduler."""
        deadline = time.monotonic() + timeout
        wanted = {command.address for command in self._commands}
        while True:
            for command in self._commands:
                if command.process is not None and command.process.poll() is not None:
                    raise RuntimeError(
                        f"dask worker {command.index} exited:\n{self.log_tail(f'worker-{command.index}')}"
                    )
            present = set(self.client().scheduler_info(n_workers=-1)["workers"])
            if wanted <= present:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"workers {sorted(wanted - present)} did not join in {timeout} s"
                )
            time.sleep(0.2)

    def index_of(self, address: str) -> int:
        """Which worker command runs the worker at `address`."""
        for command in self._commands:
            if command.address == address:
                return command.index
        raise KeyError(address)

    def processing(self) -> dict[int, tuple[str, ...]]:
        """Keys of the tasks the scheduler has handed to each worker, by worker index."""
        by_address: dict[str, Any] = self.client().processing()
        return {
            self.index_of(address): tuple(str(key) for key in keys)
            for address, keys in by_address.items()
        }

    def task_states(self, keys: list[str]) -> dict[str, str]:
        """The scheduler's state of each key (`processing`, `memory`, …), `forgotten` once it let the key go."""
        states: dict[str, str] = self.client().run_on_scheduler(_task_states, keys)
        return states

    def worker_pid(self, index: int, timeout: float = 30.0) -> int:
        """PID of worker `index`'s worker process: the nanny's spawned child (not its resource tracker)."""
        command = self._commands[index]
        assert command.process is not None
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(psutil.Error):
                for child in psutil.Process(command.process.pid).children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        if "spawn_main" in " ".join(child.cmdline()):
                            return int(child.pid)
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker {index} has no worker process")
            time.sleep(0.05)

    def kill_worker(self, index: int) -> int:
        """SIGKILL worker `index`'s worker process (its nanny starts another); returns the killed PID."""
        pid = self.worker_pid(index)
        os.kill(pid, signal.SIGKILL)
        return pid

    def terminate_worker(self, index: int, timeout: float = 60.0) -> int:
        """SIGTERM worker command `index` (the `dask worker` process, as a supervisor stops it) and wait for it
        to end; returns its exit status."""
        command = self._commands[index]
        assert command.process is not None
        command.process.send_signal(signal.SIGTERM)
        status = command.process.wait(timeout)
        _ALL_GROUPS.discard(command.process.pid)
        return status

    def start_worker(self, index: int) -> None:
        """Start worker command `index` again, as a supervisor would, and wait until it has joined."""
        self._start_worker(self._commands[index])
        self.wait_for_workers()

    def restart_scheduler(self) -> None:
        """SIGKILL the scheduler and start a new one on the same port.

        Dask workers end when their scheduler goes away; like a process supervisor would, the worker commands
        that ended are started again, and this returns once every worker has joined the new scheduler.
        """
        assert self._scheduler is not None
        self._close_client()
        _kill_group(self._scheduler.pid)
        self._scheduler.wait(30)
        self._start_scheduler()
        for command in self._commands:
            assert command.process is not None
            try:
                command.process.wait(30)
            except subprocess.TimeoutExpired:
                # A worker still attached to nothing: end it as a supervisor would.
                _kill_group(command.process.pid)
                command.process.wait(30)
            _ALL_GROUPS.discard(command.process.pid)
            self._start_worker(command)
        self.wait_for_workers()

    def stop(self) -> None:
        """Kill every process of the cluster, workers first."""
        self._close_client()
        processes = [c.process for c in self._commands] + [self._scheduler]
        for process in processes:
            if process is not None:
                _kill_group(process.pid)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(30)

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


@pytest.fixture
def dask_cluster_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., DaskCluster]]:
    """Starts clusters on demand: `factory(workers=2, env={...})`; all of them are killed after the test."""
    started: list[DaskCluster] = []

    def start(workers: int = 2, env: Mapping[str, str] | None = None) -> DaskCluster:
        cluster = DaskCluster(
            workdir=tmp_path_factory.mktemp("dask"),
            env=child_environment({**STRICT_PRIORITIES, **(env or {})}),
            workers=workers,
        )
        started.append(cluster)
        cluster.start()
        return cluster

    try:
        yield start
    finally:
        for cluster in started:
            cluster.stop()
