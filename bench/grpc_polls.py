"""API CPU per Operation Get poll over gRPC and over REST, on one `asyncstt serve` process, loopback only.

    python bench/grpc_polls.py [--polls 2000] [--seconds 60] [--rounds 2] [--write]

One server (SQLite, the fake engine, quotas off, plaintext gRPC beside REST) recognises one v3 and one v2
operation; then one client polls each of them, one poll after the other as the SDKs do, over one kept-alive HTTP
connection (`GET /operations/{id}`) and over one gRPC channel (`OperationService/Get`), in turns: `--rounds`
rounds of REST then gRPC, each door getting `--polls` polls of each operation in all, a phase stopping early
after `--seconds`. The server's CPU time (its own process: the Dask workers answer no request) is read before and
after each phase; the CPU the idle server spends anyway (its dispatcher, the Dask scheduler), measured for a few
seconds first, is subtracted at that rate. The client runs in this process and shares the machine's cores, so
polls per second depend on the machine's load; CPU per poll depends on it least. `--write` puts the table into
bench/RESULTS.md under its own heading, leaving the other sections as they are.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.audio import read_channels, to_int16  # noqa: E402
from tests.support.environment import child_environment  # noqa: E402
from tests.support.serve import ServeProcess  # noqa: E402
from yandex.cloud.operation import (  # noqa: E402
    operation_service_pb2,
    operation_service_pb2_grpc,
)

from asyncstt.server.process import free_port  # noqa: E402
from bench.measure import update_section  # noqa: E402

HEADING = "## Operation polls over gRPC and REST"
JFK = ROOT / "examples" / "jfk.wav"
IDLE_SECONDS = 5.0
WARM_UP_POLLS = 100
#: Prose lines of RESULTS.md are wrapped at this width, as the rest of the file is.
WIDTH = 115

#: One poll of an operation; raises when the answer is not the done operation.
Poll = Callable[[str], None]


@dataclass
class Phase:
    """What one door's polls of one operation cost, summed over the rounds."""

    door: str
    kind: str
    polls: int = 0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    idle_cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)

    def cpu_ms_per_poll(self) -> float:
        return (self.cpu_seconds - self.idle_cpu_seconds) / max(self.polls, 1) * 1000

    def raw_cpu_ms_per_poll(self) -> float:
        return self.cpu_seconds / max(self.polls, 1) * 1000

    def row(self) -> str:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        return (
            f"| {self.kind} poll over {self.door} | {self.cpu_ms_per_poll():.2f} ms "
            f"({self.raw_cpu_ms_per_poll():.2f} ms before the idle server's share) | "
            f"{self.polls} polls in {self.wall_seconds:.1f} s: {self.polls / self.wall_seconds:.0f}/s, "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms | "
            f"{self.loads[0]:.1f} / {statistics.mean(self.loads):.1f} / {max(self.loads):.1f} |"
        )


def server_cpu_seconds(server: ServeProcess) -> float:
    assert server.process is not None
    times = psutil.Process(server.process.pid).cpu_times()
    return float(times.user + times.system)


def start_server(root: Path) -> ServeProcess:
    env = child_environment(
        {
            "ASYNCSTT_ENGINE__KIND": "fake",
            "ASYNCSTT_EXECUTION__LOCAL_WORKERS": "1",
            "ASYNCSTT_IAM__QUOTAS__ENABLED": "false",
        }
    )
    server = ServeProcess(data_dir=root / "data", env=env, args=[], grpc_port=free_port())
    server.data_dir.mkdir(parents=True)
    server.api_key = server.create_key("bench", "sa-bench")
    server.start()
    return server


def recognised(http: httpx.Client) -> dict[str, str]:
    """One done operation of each kind, submitted over REST with jfk.wav inline."""
    wav = JFK.read_bytes()
    (samples,), rate = read_channels(JFK)
    submits = {
        "v3": (
            "/stt/v3/recognizeFileAsync",
            {
                "content": base64.b64encode(wav).decode(),
                "recognitionModel": {
                    "model": "general",
                    "audioFormat": {"containerAudio": {"containerAudioType": "WAV"}},
                    "languageRestriction": {
                        "restrictionType": "WHITELIST",
                        "languageCode": ["en-US"],
                    },
                },
            },
        ),
        "v2": (
            "/speech/stt/v2/longRunningRecognize",
            {
                "config": {
                    "specification": {
                        "languageCode": "en-US",
                        "audioEncoding": "LINEAR16_PCM",
                        "sampleRateHertz": str(rate),
                    }
                },
                "audio": {"content": base64.b64encode(to_int16(samples).tobytes()).decode()},
            },
        ),
    }
    operations = {}
    for kind, (path, body) in submits.items():
        answer = http.post(path, json=body)
        answer.raise_for_status()
        operations[kind] = answer.json()["id"]
    deadline = time.monotonic() + 120
    for operation_id in operations.values():
        while not http.get(f"/operations/{operation_id}").json()["done"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"operation {operation_id} not done in 120 s")
            time.sleep(0.2)
    return operations


def rest_poll(http: httpx.Client) -> Poll:
    def poll(operation_id: str) -> None:
        answer = http.get(f"/operations/{operation_id}")
        if answer.status_code != 200 or not answer.json()["done"]:
            raise RuntimeError(f"REST poll: {answer.status_code} {answer.text[:200]}")

    return poll


def grpc_poll(channel: grpc.Channel, api_key: str) -> Poll:
    stub = operation_service_pb2_grpc.OperationServiceStub(channel)
    metadata = (("authorization", f"Api-Key {api_key}"),)

    def poll(operation_id: str) -> None:
        operation = stub.Get(
            operation_service_pb2.GetOperationRequest(operation_id=operation_id),
            metadata=metadata,
            timeout=10,
        )
        if not operation.done or operation.id != operation_id:
            raise RuntimeError(f"gRPC poll: {operation}")

    return poll


def measure(
    phase: Phase,
    server: ServeProcess,
    poll: Poll,
    operation_id: str,
    polls: int,
    seconds: float,
    idle_rate: float,
) -> None:
    phase.loads.append(os.getloadavg()[0])
    cpu_before = server_cpu_seconds(server)
    started = time.monotonic()
    deadline = started + seconds
    done = 0
    while done < polls and time.monotonic() < deadline:
        sent = time.monotonic()
        poll(operation_id)
        phase.latencies.append(time.monotonic() - sent)
        done += 1
    wall = time.monotonic() - started
    phase.cpu_seconds += server_cpu_seconds(server) - cpu_before
    phase.idle_cpu_seconds += idle_rate * wall
    phase.wall_seconds += wall
    phase.polls += done
    phase.loads.append(os.getloadavg()[0])


def idle_cpu_rate(server: ServeProcess) -> float:
    """CPU seconds per second the server spends with no request to answer."""
    before = server_cpu_seconds(server)
    time.sleep(IDLE_SECONDS)
    return (server_cpu_seconds(server) - before) / IDLE_SECONDS


def section(args: argparse.Namespace, phases: list[Phase], idle_rate: float) -> list[str]:
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    by_door = {
        door: sum(p.cpu_seconds - p.idle_cpu_seconds for p in phases if p.door == door)
        / max(sum(p.polls for p in phases if p.door == door), 1)
        * 1000
        for door in ("REST", "gRPC")
    }
    ratio = by_door["gRPC"] / by_door["REST"] if by_door["REST"] > 0 else float("nan")
    setup = (
        f"Command: `python bench/grpc_polls.py --polls {args.polls} --seconds {args.seconds:g} "
        f"--rounds {args.rounds}`. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, HEAD {head}. "
        "One `asyncstt serve` process (SQLite, fake engine, "
        "quotas off, plaintext gRPC), one client polling one done operation at a time, in turns REST then "
        f"gRPC; the idle server's own CPU ({idle_rate * 1000:.1f} ms per second: its dispatcher and the "
        "Dask scheduler) is subtracted. The last column is the 1-minute load average at the start and end of "
        "each phase (first / mean / max). `bench/run.py` rewrites this file from its own table only: copy "
        "this section back after rerunning it."
    )
    summary = (
        f"All polls: {by_door['gRPC']:.2f} ms of API CPU per poll over gRPC, {by_door['REST']:.2f} ms over "
        f"REST (gRPC / REST = {ratio:.2f}; the issue's target: at most 1)."
    )
    return [
        HEADING,
        "",
        *textwrap.wrap(setup, WIDTH),
        "",
        "| measurement | API CPU per poll | polls | load avg 1 min |",
        "|---|---|---|---|",
        *(phase.row() for phase in phases),
        "",
        *textwrap.wrap(summary, WIDTH),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--polls", type=int, default=2000, help="polls per door and kind")
    parser.add_argument("--seconds", type=float, default=60.0, help="time bound of one phase")
    parser.add_argument("--rounds", type=int, default=2, help="turns of REST then gRPC")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="asyncstt-grpc-polls-") as tmp:
        server = start_server(Path(tmp))
        try:
            phases, idle_rate = run(args, server)
        finally:
            server.stop()
    lines = section(args, phases, idle_rate)
    print("\n".join(lines))
    if args.write:
        update_section(HEADING, "\n".join(lines[1:]))


def run(args: argparse.Namespace, server: ServeProcess) -> tuple[list[Phase], float]:
    """Warm both doors up, measure the idle server, then poll in turns."""
    with (
        server.client() as http,
        grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel,
    ):
        operations = recognised(http)
        grpc.channel_ready_future(channel).result(timeout=30)
        doors = {"REST": rest_poll(http), "gRPC": grpc_poll(channel, server.api_key)}
        for poll in doors.values():
            for operation_id in operations.values():
                for _ in range(WARM_UP_POLLS):
                    poll(operation_id)
        idle_rate = idle_cpu_rate(server)
        phases = {
            (door, kind): Phase(door, kind) for kind in operations for door in ("REST", "gRPC")
        }
        per_round = max(args.polls // args.rounds, 1)
        for _ in range(args.rounds):
            for (door, kind), phase in phases.items():
                measure(
                    phase,
                    server,
                    doors[door],
                    operations[kind],
                    per_round,
                    args.seconds / args.rounds,
                    idle_rate,
                )
    return list(phases.values()), idle_rate


if __name__ == "__main__":
    main()
