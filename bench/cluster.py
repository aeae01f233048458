"""Cluster-mode benchmark: real PostgreSQL, a real `dask scheduler` and `dask worker`s, `asyncstt serve` processes.

    python bench/cluster.py [--phases throughput,latency,api] [--quick] [--output FILE]

Phases (each starts what it needs, on loopback, and stops it again):

  throughput  A batch of `--batch` operations (33-55 s files of speech from jfk.wav and the LibriVox
              utterances, built as bench/run.py builds its files) submitted at once, with 1, 2 and 3 worker
              processes (`--workers`); submit of the first -> the last seen done.
              Figures: audio seconds per wall second, operations per minute.
  latency     Queue latency when idle: `--latency-count` operations of jfk.wav (11 s) one after the other on
              a warm 2-worker cluster; each is polled as fast as one client can, from the moment its submit is
              sent until its progress stage leaves `queued` (claimed) and until it reads `recognising` (its
              slices are being handed to Dask). Median and p99 of both.
  api         API polls/s and submits/s with bench/load.py, against 1 and 2 API processes (`--api-processes`)
              on one database, quotas off. The scheduler has no workers, so no recognition competes for the
              CPU: the dispatchers each claim a few operations and then wait. Polls read one unfinished operation;
              submits carry 1 s of audio inline, model deferred-general.
  profile     py-spy samples one API process (the threads serving HTTP) while it serves polls; the
              functions with the most active samples (inclusive and self) are listed. Skipped without py-spy.

Every phase records the machine's 1-minute load average while it ran (start, mean, max): the machine is
shared, and figures measured under load are not comparable with figures measured idle.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.audio import read_wav_mono, write_wav  # noqa: E402
from tests.support.dask_cluster import STRICT_PRIORITIES, DaskCluster  # noqa: E402
from tests.support.environment import child_environment  # noqa: E402
from tests.support.postgres import PostgresServer, _bin_dir, _run, _start  # noqa: E402
from tests.support.serve import ServeProcess  # noqa: E402

from asyncstt.store.database import upgrade  # noqa: E402
from bench.load import load, percentile, submit_body  # noqa: E402
from bench.material import build_channel  # noqa: E402
from bench.measure import LoadWatch, load_text  # noqa: E402

EXAMPLES = ROOT / "examples"
SUBMIT = "/speech/stt/v2/longRunningRecognize"
WORKER_PRELOAD = "asyncstt.executor.worker"
#: One server key for every API process of a run, as a deployment must have.
SERVER_KEY = "bench-cluster-server-key-0123456789abcdef"
#: Lengths of the batch's files, in turn.
BATCH_SECONDS = (33.0, 44.0, 55.0)


class Postgres:
    """A PostgreSQL server in a temporary directory, started the way the test plugin starts it."""

    def __init__(self) -> None:
        self._bin = _bin_dir()
        self._dir = Path(tempfile.mkdtemp(prefix="asyncstt-bench-pg-"))
        self.server: PostgresServer = _start(self._bin, self._dir)

    def database(self) -> str:
        """URL of a fresh database migrated to the newest schema."""
        url = self.server.url(self.server.create_database())
        upgrade(url)
        return url

    def stop(self) -> None:
        _run(str(self._bin / "pg_ctl"), "-D", str(self.server.data_dir), "-m", "fast", "-w", "stop")
        shutil.rmtree(self._dir, ignore_errors=True)


def preload_module(choice: str) -> str | None:
    """The worker --preload module named on the command line; None for `none` (engines load lazily)."""
    return None if choice == "none" else choice


def start_dask(workdir: Path, workers: int, preload: str | None) -> DaskCluster:
    env = child_environment({**STRICT_PRIORITIES, "OMP_NUM_THREADS": "1"})
    cluster = DaskCluster(workdir=workdir, env=env, workers=workers, preload=preload)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


def start_api(
    workdir: Path, database: str, dask: str, file_root: Path, env_extra: dict[str, str]
) -> ServeProcess:
    """One `asyncstt serve --database … --dask …` process, quotas off, answering /health."""
    env = child_environment(
        {
            "ASYNCSTT_IAM__QUOTAS__ENABLED": "false",
            "ASYNCSTT_IAM__SECRET_KEY": SERVER_KEY,
            "ASYNCSTT_DATABASE_URL": database,
            **env_extra,
        }
    )
    workdir.mkdir(parents=True, exist_ok=True)
    server = ServeProcess(
        data_dir=Path(tempfile.mkdtemp(prefix="api-", dir=workdir)) / "data",
        env=env,
        args=["--database", database, "--dask", dask, "--file-root", str(file_root)],
    )
    server.data_dir.mkdir(parents=True)
    server.start()
    return server


@contextmanager
def deployment(
    postgres: Postgres,
    workdir: Path,
    workers: int,
    apis: int,
    preload: str | None,
    env_extra: dict[str, str],
    file_root: Path,
) -> Iterator[tuple[DaskCluster, list[ServeProcess], str]]:
    """A fresh database, a scheduler with `workers` workers and `apis` API processes; yields them and a key."""
    database = postgres.database()
    with ExitStack() as stack:
        cluster = start_dask(workdir / "dask", workers, preload)
        stack.callback(cluster.stop)
        servers = []
        for _ in range(apis):
            api = start_api(workdir, database, cluster.address, file_root, env_extra)
            stack.callback(api.stop)
            servers.append(api)
        yield cluster, servers, servers[0].create_key("bench", "sa-bench")


def client(api: ServeProcess, key: str) -> httpx.Client:
    return httpx.Client(base_url=api.url, headers={"Authorization": f"Api-Key {key}"}, timeout=60)


def uri_body(path: Path, model: str = "general") -> dict[str, Any]:
    return {
        "config": {"specification": {"languageCode": "en-US", "model": model}},
        "audio": {"uri": path.as_uri()},
    }


def submit(http: httpx.Client, body: dict[str, Any]) -> str:
    response = http.post(SUBMIT, json=body)
    if response.status_code != 200:
        raise RuntimeError(f"submit refused: {response.status_code} {response.text}")
    operation_id: str = response.json()["id"]
    return operation_id


def wait_all(http: httpx.Client, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    done: dict[str, dict[str, Any]] = {}
    while len(done) < len(ids):
        for operation_id in ids:
            if operation_id not in done:
                body = http.get(f"/operations/{operation_id}").json()
                if body.get("done"):
                    done[operation_id] = body
        if len(done) < len(ids):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(ids) - len(done)} operations not done after {timeout} s")
            time.sleep(0.1)
    return done


def operation_text(operation: dict[str, Any]) -> str:
    chunks = operation.get("response", {}).get("chunks", [])
    return " ".join(chunk["alternatives"][0]["text"] for chunk in chunks)


@dataclass(frozen=True)
class Audio:
    """The benchmark's audio files, under one directory (the API's file root).

    The batch's files are cut from jfk.wav and the LibriVox utterances in turn, with pauses, as bench/run.py
    builds them: jfk.wav tiled end to end would make Whisper repeat itself and fall back to sampling at
    higher temperatures, many times slower.
    """

    root: Path
    once: Path
    second: Path
    batch: list[tuple[Path, float]]

    @classmethod
    def build(cls, root: Path, count: int) -> Audio:
        jfk = read_wav_mono(EXAMPLES / "jfk.wav")
        once = write_wav(root / "jfk-1.wav", [jfk], 16000)
        second = write_wav(root / "jfk-1s.wav", [jfk[:16000]], 16000)
        batch = []
        for index in range(count):
            seconds = BATCH_SECONDS[index % len(BATCH_SECONDS)]
            path = write_wav(root / f"batch-{index}.wav", [build_channel(seconds, index)], 16000)
            batch.append((path, seconds))
        return cls(root, once, second, batch)


def throughput(
    args: argparse.Namespace, postgres: Postgres, work: Path, audio: Audio
) -> list[dict[str, Any]]:
    rows = []
    env = {"ASYNCSTT_EXECUTION__SLICE_SECONDS": str(args.slice_seconds)}
    for workers in args.workers:
        files = audio.batch
        with (
            deployment(
                postgres, work / f"tp-{workers}", workers, 1, args.preload, env, audio.root
            ) as (
                _,
                apis,
                key,
            ),
            client(apis[0], key) as http,
        ):
            # Every worker recognises once before the clock starts, so no model load is measured.
            warm = [submit(http, uri_body(audio.once)) for _ in range(workers)]
            wait_all(http, warm, timeout=300)
            watch = LoadWatch()
            with watch.watch():
                started = time.perf_counter()
                ids = [submit(http, uri_body(path)) for path, _ in files]
                done = wait_all(http, ids, timeout=1800)
                wall = time.perf_counter() - started
        failed = [i for i, body in done.items() if "error" in body]
        # A sanity check, not a quality figure: every file has speech from start to end.
        words = sum(len(operation_text(body).split()) for body in done.values())
        seconds = sum(length for _, length in files)
        row = {
            "workers": workers,
            "operations": len(files),
            "audio_seconds": round(seconds, 1),
            "wall_seconds": round(wall, 2),
            "audio_seconds_per_wall_second": round(seconds / wall, 2),
            "operations_per_minute": round(len(files) / wall * 60, 1),
            "failed": len(failed),
            "words": words,
            "load": watch.summary(),
        }
        print(f"throughput {row}", flush=True)
        rows.append(row)
    return rows


def stage_of(body: dict[str, Any]) -> str:
    if body.get("done"):
        return "done"
    return str(body.get("metadata", {}).get("stage", "queued"))


@dataclass
class StartTimes:
    """Seconds from sending each submit: answered, claimed, `recognising` (None: gone past it unseen)."""

    answered: list[float] = field(default_factory=list)
    claimed: list[float] = field(default_factory=list)
    recognising: list[float] = field(default_factory=list)
    missed: int = 0

    def measure(self, http: httpx.Client, path: Path) -> None:
        """Submit `path` and poll it without pause until it is `recognising`; returns once it is done."""
        sent = time.perf_counter()
        operation_id = submit(http, uri_body(path))
        self.answered.append(time.perf_counter() - sent)
        claimed = False
        while True:
            stage = stage_of(http.get(f"/operations/{operation_id}").json())
            now = time.perf_counter() - sent
            if stage != "queued" and not claimed:
                claimed = True
                self.claimed.append(now)
            if stage in ("recognising", "assembling", "done"):
                break
        if stage == "recognising":
            self.recognising.append(now)
        else:
            self.missed += 1
        wait_all(http, [operation_id], timeout=300)


def latency(
    args: argparse.Namespace, postgres: Postgres, work: Path, audio: Audio
) -> dict[str, Any]:
    times = StartTimes()
    with (
        deployment(postgres, work / "latency", 2, 1, args.preload, {}, audio.root) as (
            _,
            apis,
            key,
        ),
        client(apis[0], key) as http,
    ):
        wait_all(http, [submit(http, uri_body(audio.once)) for _ in range(2)], timeout=300)
        watch = LoadWatch()
        with watch.watch():
            for _ in range(args.latency_count):
                # Idle: the last operation is done and the dispatcher is back to waiting for work.
                time.sleep(0.5)
                times.measure(http, audio.once)
    result = {
        "operations": args.latency_count,
        "answered_ms": quantiles(times.answered),
        "claimed_ms": quantiles(times.claimed),
        "recognising_ms": quantiles(times.recognising),
        "recognising_missed": times.missed,
        "load": watch.summary(),
    }
    print(f"latency {result}", flush=True)
    return result


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(percentile(ordered, 0.5) * 1000, 1),
        "p99": round(percentile(ordered, 0.99) * 1000, 1),
        "max": round(ordered[-1] * 1000, 1) if ordered else float("nan"),
    }


def api(
    args: argparse.Namespace, postgres: Postgres, work: Path, audio: Audio
) -> list[dict[str, Any]]:
    rows = []
    for count in args.api_processes:
        with deployment(
            postgres, work / f"api-{count}", 0, count, args.preload, {}, audio.root
        ) as (
            _,
            apis,
            key,
        ):
            urls = [server.url for server in apis]
            body = submit_body(audio.second, "deferred-general")
            with client(apis[0], key) as http:
                operation_id = submit(http, body)
            for kind in ("poll", "submit"):
                # A short warm-up: connections, caches, the first queries of each process.
                asyncio.run(load(urls, key, kind, args.clients, 200, 2.0, operation_id, body=body))
                watch = LoadWatch()
                cpu_before = server_cpu_seconds(apis)
                with watch.watch():
                    result = asyncio.run(
                        load(
                            urls,
                            key,
                            kind,
                            args.clients,
                            args.api_requests,
                            args.api_seconds,
                            operation_id,
                            body=body,
                        )
                    )
                cpu = {
                    part: (after - cpu_before[part]) / max(result.requests, 1) * 1000
                    for part, after in server_cpu_seconds(apis).items()
                }
                row = {
                    "api_processes": count,
                    "kind": kind,
                    "clients": args.clients,
                    **result.summary(),
                    "api_cpu_ms_per_request": round(cpu["api"], 2),
                    "postgres_cpu_ms_per_request": round(cpu["postgres"], 2),
                    "load": watch.summary(),
                }
                print(f"api {row}", flush=True)
                rows.append(row)
    return rows


def server_cpu_seconds(apis: list[ServeProcess]) -> dict[str, float]:
    """CPU time used so far by the API processes, and by the PostgreSQL backends serving their database.

    Divided by the requests served, it is a cost per request that does not depend on how busy the machine
    is, unlike requests per second. PostgreSQL's part is rough: a backend that closes during a phase drops
    out of the sum, which can even make the difference negative."""
    database = f" {apis[0].env['ASYNCSTT_DATABASE_URL'].rsplit('/', 1)[-1]} "
    pids = {api.process.pid for api in apis if api.process is not None}
    totals = {"api": 0.0, "postgres": 0.0}
    for process in psutil.process_iter(["name", "cmdline"]):
        with suppress(psutil.Error):
            if process.pid in pids:
                part = "api"
            elif process.info["name"] == "postgres" and database in " ".join(
                process.info["cmdline"] or []
            ):
                part = "postgres"
            else:
                continue
            times = process.cpu_times()
            totals[part] += times.user + times.system
    return totals


def profile(
    args: argparse.Namespace, postgres: Postgres, work: Path, audio: Audio
) -> dict[str, Any]:
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        return {"skipped": "py-spy is not installed"}
    with deployment(postgres, work / "profile", 0, 1, args.preload, {}, audio.root) as (
        _,
        apis,
        key,
    ):
        body = submit_body(audio.second, "deferred-general")
        with client(apis[0], key) as http:
            operation_id = submit(http, body)
        assert apis[0].process is not None
        raw = work / "profile.txt"
        seconds = max(5, int(args.api_seconds / 2))
        recorder = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(apis[0].process.pid),
                "--duration",
                str(seconds),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(raw),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        asyncio.run(
            load([apis[0].url], key, "poll", args.clients, 10**6, seconds + 1, operation_id)
        )
        recorder.wait(60)
    return top_functions(raw, args.profile_top)


#: Modules whose frames sit under every request (threads, event loop, server loop): left out of the lists.
PLUMBING = ("threading.py", "asyncio/", "selectors.py", "uvicorn/server.py", "uvicorn/_compat.py")


def top_functions(raw: Path, top: int) -> dict[str, Any]:
    """Functions by share of the active samples in py-spy's collapsed stacks, inclusive (anywhere on the
    stack) and self (the leaf), of every thread but the dispatcher's, which is not on the request path."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        if "Dispatcher." in stack or "LeaseKeeper." in stack:
            continue
        count = int(count_text)
        total += count
        frames = [frame_name(frame) for frame in stack.split(";")]
        for frame in set(frames):
            if not any(part in frame for part in PLUMBING):
                inclusive[frame] += count
        own[frames[-1]] += count

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(n / max(total, 1) * 100, 1)) for name, n in counter.most_common(top)]

    return {"samples": total, "inclusive_percent": share(inclusive), "self_percent": share(own)}


def frame_name(frame: str) -> str:
    """`function (path/to/module.py:123)` -> `function (module.py)`: lines of one function are merged."""
    name, _, where = frame.partition(" (")
    module = where.rstrip(")").rsplit(":", 1)[0]
    short = "/".join(Path(module).parts[-2:])
    return f"{name} ({short})"


def table(results: dict[str, Any]) -> list[str]:
    lines = ["| measurement | figure | load avg 1 min (start / mean / max) |", "|---|---|---|"]
    for row in results.get("throughput", []):
        lines.append(
            f"| throughput, {row['operations']} ops ({row['audio_seconds']:.0f} s audio), "
            f"{row['workers']} worker{'s' if row['workers'] > 1 else ''} | "
            f"{row['wall_seconds']:.1f} s: {row['audio_seconds_per_wall_second']:.2f} audio s/s, "
            f"{row['operations_per_minute']:.1f} ops/min; failed {row['failed']}, "
            f"{row['words']} words | {load_text(row['load'])} |"
        )
    if "latency" in results:
        lat = results["latency"]
        lines.append(
            f"| idle queue latency, {lat['operations']} submits: submit -> answered | "
            f"p50 {lat['answered_ms']['p50']:.0f} ms, p99 {lat['answered_ms']['p99']:.0f} ms, "
            f"max {lat['answered_ms']['max']:.0f} ms | {load_text(lat['load'])} |"
        )
        lines.append(
            f"| idle queue latency: submit -> claimed (stage leaves queued) | "
            f"p50 {lat['claimed_ms']['p50']:.0f} ms, p99 {lat['claimed_ms']['p99']:.0f} ms, "
            f"max {lat['claimed_ms']['max']:.0f} ms | {load_text(lat['load'])} |"
        )
        lines.append(
            f"| idle queue latency: submit -> recognising (slices handed to Dask) | "
            f"p50 {lat['recognising_ms']['p50']:.0f} ms, p99 {lat['recognising_ms']['p99']:.0f} ms, "
            f"max {lat['recognising_ms']['max']:.0f} ms (target <= 100 ms) | "
            f"{load_text(lat['load'])} |"
        )
    for row in results.get("api", []):
        errors = ", ".join(f"{s}: {n}" for s, n in row["errors"].items()) or "none"
        what = "polls" if row["kind"] == "poll" else "submits"
        target = "1,500" if row["kind"] == "poll" else "300"
        lines.append(
            f"| API {what}, {row['api_processes']} API process{'es' if row['api_processes'] > 1 else ''}, "
            f"{row['clients']} clients | {row['requests_per_second']:.0f}/s (target >= {target}), "
            f"p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms "
            f"(target <= 50 ms); {row['requests']} requests, errors {errors}; "
            f"CPU per request: API {row['api_cpu_ms_per_request']:.1f} ms, "
            f"PostgreSQL {row['postgres_cpu_ms_per_request']:.1f} ms; "
            f"load client CPU {row['client_cpu_seconds']:.1f} s of {row['wall_seconds']:.1f} s | "
            f"{load_text(row['load'])} |"
        )
    return lines


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--phases",
        default="throughput,latency,api,profile",
        help="comma-separated, of throughput, latency, api, profile (default: all)",
    )
    parser.add_argument("--workers", type=numbers, default=[1, 2, 3], help="default 1,2,3")
    parser.add_argument("--batch", type=int, default=12, help="operations per batch (default 12)")
    parser.add_argument(
        "--slice-seconds", type=float, default=30.0, help="slice length in the throughput phase"
    )
    parser.add_argument("--latency-count", type=int, default=50, help="default 50")
    parser.add_argument("--api-processes", type=numbers, default=[1, 2], help="default 1,2")
    parser.add_argument("--clients", type=int, default=32, help="load tool clients (default 32)")
    parser.add_argument(
        "--api-seconds", type=float, default=20.0, help="time bound of one API phase"
    )
    parser.add_argument(
        "--api-requests", type=int, default=60_000, help="count bound of one API phase"
    )
    parser.add_argument("--profile-top", type=int, default=15, help="functions listed")
    parser.add_argument(
        "--preload",
        default=WORKER_PRELOAD,
        help=f"worker --preload module (default {WORKER_PRELOAD}); none: engines load on the first slice",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: batch 4, 1-2 workers, 10 latency submits, 5 s API phases",
    )
    parser.add_argument("--output", type=Path, default=Path("cluster-results.json"))
    if "--quick" in sys.argv[1:]:
        parser.set_defaults(batch=4, workers=[1, 2], latency_count=10, api_seconds=5.0)
    args = parser.parse_args()
    args.preload = preload_module(args.preload)
    # The cluster's processes run in sessions of their own: a TERM must unwind through the cleanup code.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    phases = {"throughput": throughput, "latency": latency, "api": api, "profile": profile}
    chosen = [name.strip() for name in args.phases.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(phases))
    if unknown:
        parser.error(f"unknown phases {unknown}; choose from {sorted(phases)}")
    results: dict[str, Any] = {
        "command": "python bench/cluster.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "worker_preload": args.preload,
    }
    postgres = Postgres()
    try:
        with tempfile.TemporaryDirectory(prefix="asyncstt-bench-") as tmp:
            work = Path(tmp)
            audio = Audio.build(work, args.batch)
            for name in chosen:
                results[name] = phases[name](args, postgres, work, audio)
                args.output.write_text(json.dumps(results, indent=2))
    finally:
        postgres.stop()
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    args.output.write_text(json.dumps(results, indent=2))
    print("\n".join(table(results)))
    if "profile" in results:
        print(json.dumps(results["profile"], indent=2))


if __name__ == "__main__":
    main()
