"""A bounded HTTP load tool for asyncstt's API, on loopback only.

    python bench/load.py --url http://127.0.0.1:8000 --api-key KEY poll --operation ID
    python bench/load.py --url http://127.0.0.1:8000 --url http://127.0.0.1:8001 --api-key KEY \\
        submit --audio short.wav --model deferred-general

N concurrent clients (asyncio tasks sharing one connection pool per URL, spread over the URLs in turn) send
requests until either `--requests` have been sent or `--seconds` have passed, whichever comes first. It reports
requests per second, latency percentiles and the count of each HTTP status (transport errors count as status 0).
The client is Python too and shares the machine's cores with the server: its own CPU time is reported so that a
reader can tell when the client, not the server, was the limit.

    python3 -m bench.load [api] [--polls 3000] [--submits 600] [--rate 300] [--write]

`api`, the default, starts its own `asyncstt serve` and measures what one request costs it (`api_costs`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
import wave
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.dask_cluster import DaskCluster  # noqa: E402
from tests.support.environment import child_environment  # noqa: E402
from tests.support.serve import ServeProcess  # noqa: E402

from bench.measure import update_section  # noqa: E402

#: Hosts the tool agrees to load: it is a benchmark, not a way to flood someone else's server.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SUBMIT_PATH = "/speech/stt/v2/longRunningRecognize"
V3_SUBMIT_PATH = "/stt/v3/recognizeFileAsync"
JFK = ROOT / "examples" / "jfk.wav"
HEADING = "## API CPU per request"
#: Prose lines of RESULTS.md are wrapped at this width, as the rest of the file is.
WIDTH = 115
#: How long the idle server's own CPU (its dispatcher, lease renewals) is measured before the phases.
IDLE_SECONDS = 3.0
#: Requests of each kind sent before any is measured: connections, caches, the first queries.
WARM_UP = 50
#: The issue's targets, in ms: API CPU of one poll and of one submit, poll p99 at `--rate`.
POLL_CPU_TARGET_MS = 1.0
SUBMIT_CPU_TARGET_MS = 3.0
POLL_P99_TARGET_MS = 50.0

#: Sends request number `index` as client `client`; returns the HTTP status, 0 for a transport error.
Send = Callable[[int, int], Awaitable[int]]


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (0..1) of already sorted values, interpolated linearly between neighbours."""
    if not ordered:
        return math.nan
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"a quantile is between 0 and 1, got {fraction}")
    position = fraction * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


@dataclass
class LoadResult:
    """What one bounded run measured; latencies in seconds, of every completed request."""

    wall_seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    client_cpu_seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def errors(self) -> dict[int, int]:
        """Count of every status that is not 2xx; 0 stands for a transport error."""
        return {s: n for s, n in sorted(self.statuses.items()) if not 200 <= s < 300}

    @property
    def rate(self) -> float:
        """Successful requests per second of wall time."""
        return self.ok / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def latency(self, fraction: float) -> float:
        return percentile(sorted(self.latencies), fraction)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "requests": self.requests,
            "ok": self.ok,
            "errors": {str(s): n for s, n in self.errors.items()},
            "wall_seconds": round(self.wall_seconds, 3),
            "requests_per_second": round(self.rate, 1),
            "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
            "p95_ms": round(percentile(ordered, 0.95) * 1000, 2),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2) if ordered else math.nan,
            "client_cpu_seconds": round(self.client_cpu_seconds, 2),
        }


async def run_load(
    send: Send,
    clients: int,
    max_requests: int,
    max_seconds: float,
    clock: Callable[[], float] = time.perf_counter,
) -> LoadResult:
    """Run `clients` loops of `send` until `max_requests` were started or `max_seconds` have passed.

    A request already started when the time runs out is waited for and counted, so the wall time is that of
    the last completed request, not the deadline.
    """
    if clients < 1 or max_requests < 1 or max_seconds <= 0:
        raise ValueError("clients, requests and seconds must all be positive")
    result = LoadResult(wall_seconds=0.0)
    issued = 0
    started = clock()
    deadline = started + max_seconds
    cpu_before = os.times()

    async def client(number: int) -> None:
        nonlocal issued
        while issued < max_requests and clock() < deadline:
            index = issued
            issued += 1
            sent = clock()
            status = await send(number, index)
            result.latencies.append(clock() - sent)
            result.statuses[status] += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    result.wall_seconds = clock() - started
    cpu_after = os.times()
    result.client_cpu_seconds = (cpu_after.user - cpu_before.user) + (
        cpu_after.system - cpu_before.system
    )
    return result


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"load.py only loads servers on this machine (127.0.0.1), not {url}")


def submit_body(audio: Path, model: str, language: str = "en-US") -> dict[str, Any]:
    """A v2 longRunningRecognize request with `audio` inline."""
    return {
        "config": {"specification": {"languageCode": language, "model": model}},
        "audio": {"content": base64.b64encode(audio.read_bytes()).decode()},
    }


class HttpTarget:
    """One pooled AsyncClient per URL; client `n` uses URL `n mod len(urls)`."""

    def __init__(self, urls: Sequence[str], api_key: str, clients: int) -> None:
        for url in urls:
            check_loopback(url)
        per_url = max(1, math.ceil(clients / len(urls)))
        limits = httpx.Limits(max_connections=per_url, max_keepalive_connections=per_url)
        headers = {"Authorization": f"Api-Key {api_key}"} if api_key else {}
        self._clients = [
            httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30)
            for url in urls
        ]

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()

    def _client(self, number: int) -> httpx.AsyncClient:
        return self._clients[number % len(self._clients)]

    def poll(self, operation_id: str) -> Send:
        path = f"/operations/{operation_id}"

        async def send(number: int, _index: int) -> int:
            try:
                response = await self._client(number).get(path)
            except httpx.HTTPError:
                return 0
            return response.status_code

        return send

    def submit(self, body: dict[str, Any]) -> Send:
        content = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}

        async def send(number: int, _index: int) -> int:
            try:
                response = await self._client(number).post(
                    SUBMIT_PATH, content=content, headers=headers
                )
            except httpx.HTTPError:
                return 0
            return response.status_code

        return send


async def load(
    urls: Sequence[str],
    api_key: str,
    kind: str,
    clients: int,
    max_requests: int,
    max_seconds: float,
    operation_id: str = "",
    body: dict[str, Any] | None = None,
) -> LoadResult:
    """One bounded phase of polls (`kind="poll"`, of `operation_id`) or submits (`kind="submit"`, of `body`)."""
    target = HttpTarget(urls, api_key, clients)
    try:
        if kind == "poll":
            send = target.poll(operation_id)
        elif body is not None:
            send = target.submit(body)
        else:
            raise ValueError("submits need a request body")
        return await run_load(send, clients, max_requests, max_seconds)
    finally:
        await target.close()


@dataclass(frozen=True)
class Request:
    """One request the benchmark sends again and again: what it is called, and its bytes."""

    name: str
    method: str
    target: str
    body: bytes = b""


class Connection:
    """One kept-alive HTTP/1.1 connection over asyncio streams.

    A client far cheaper than httpx per request, so that on a small machine the server gets the cores and
    the client's own cost hardly blurs the server's latency. It reads what the API answers: a body with a
    Content-Length, or chunked (the result streams of getRecognition).
    """

    def __init__(self, host: str, port: int, api_key: str) -> None:
        self._host = host
        self._port = port
        self._head = f"Host: {host}:{port}\r\nAuthorization: Api-Key {api_key}\r\n"
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, request: Request) -> tuple[int, bytes]:
        """The status and body of `request`'s answer; reconnects when the server closed the connection."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._streams
        length = f"Content-Length: {len(request.body)}\r\nContent-Type: application/json\r\n"
        head = f"{request.method} {request.target} HTTP/1.1\r\n{self._head}"
        writer.write(f"{head}{length if request.body else ''}\r\n".encode() + request.body)
        try:
            status, headers = _head_of(await reader.readuntil(b"\r\n\r\n"))
            body = await _body(reader, headers)
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise
        if headers.get("connection") == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()


def _head_of(raw: bytes) -> tuple[int, dict[str, str]]:
    status_line, *lines = raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return int(status_line.split(" ", 2)[1]), headers


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() != "chunked":
        return b""
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append((await reader.readexactly(size + 2))[:-2])


@dataclass
class Phase:
    """What the server spent on one phase of requests of one kind."""

    name: str
    mode: str
    requests: int = 0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    idle_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    loads: tuple[float, float] = (math.nan, math.nan)

    def cpu_ms(self) -> float:
        """API CPU per request, less what the idle server spends anyway in the same time."""
        return (self.cpu_seconds - self.idle_cpu_seconds) / max(self.requests, 1) * 1000

    def row(self) -> str:
        ordered = sorted(self.latencies)
        errors = {s: n for s, n in sorted(self.statuses.items()) if s != 200}
        return (
            f"| {self.name} | {self.mode} | {self.cpu_ms():.2f} ms "
            f"({self.cpu_seconds / max(self.requests, 1) * 1000:.2f} ms raw) | "
            f"{self.requests} in {self.wall_seconds:.1f} s: {self.requests / self.wall_seconds:.0f}/s, "
            f"p50 {percentile(ordered, 0.5) * 1000:.1f} ms, p99 {percentile(ordered, 0.99) * 1000:.1f} ms, "
            f"max {ordered[-1] * 1000 if ordered else math.nan:.1f} ms"
            f"{f', errors {errors}' if errors else ''} | {self.client_cpu_seconds:.1f} s | "
            f"{self.loads[0]:.1f} / {self.loads[1]:.1f} |"
        )


def process_cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def client_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


async def closed_loop(
    connections: list[Connection], request: Request, count: int, seconds: float
) -> tuple[list[float], Counter[int]]:
    """Each connection sends `request`, one after the other, until `count` were sent or `seconds` passed."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.perf_counter() + seconds
    issued = 0

    async def client(connection: Connection) -> None:
        nonlocal issued
        while issued < count and time.perf_counter() < deadline:
            issued += 1
            sent = time.perf_counter()
            statuses[await _status(connection, request)] += 1
            latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(client(connection) for connection in connections))
    return latencies, statuses


async def paced(
    connections: list[Connection],
    requests: Sequence[Request],
    rate: float,
    count: int,
    seconds: float,
) -> tuple[list[float], Counter[int]]:
    """`requests` in turn at `rate` per second, whatever the answers' pace, until `count` or `seconds`.

    Each latency runs from the moment its request was due, not from when a free connection sent it, so a
    server that falls behind shows in the latencies rather than slowing the rate down.
    """
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in connections:
        idle.put_nowait(connection)
    in_flight: set[asyncio.Task[None]] = set()
    started = time.perf_counter()

    async def one(connection: Connection, request: Request, due: float) -> None:
        statuses[await _status(connection, request)] += 1
        latencies.append(time.perf_counter() - due)
        idle.put_nowait(connection)

    for index in range(min(count, math.ceil(rate * seconds))):
        due = started + index / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        connection = await idle.get()
        task = asyncio.create_task(one(connection, requests[index % len(requests)], due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    return latencies, statuses


async def _status(connection: Connection, request: Request) -> int:
    try:
        status, _ = await connection.send(request)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        return 0
    return status


def v2_submit(audio: Path) -> bytes:
    """A v2 longRunningRecognize of `audio`'s samples inline as LINEAR16_PCM."""
    with wave.open(str(audio)) as wav:
        rate, pcm = wav.getframerate(), wav.readframes(wav.getnframes())
    body = {
        "config": {
            "specification": {
                "languageCode": "en-US",
                "audioEncoding": "LINEAR16_PCM",
                "sampleRateHertz": str(rate),
            }
        },
        "audio": {"content": base64.b64encode(pcm).decode()},
    }
    return json.dumps(body).encode()


def v3_submit(audio: Path) -> bytes:
    """A v3 recognizeFileAsync of `audio`, a WAV file, inline."""
    body = {
        "content": base64.b64encode(audio.read_bytes()).decode(),
        "recognitionModel": {
            "model": "general",
            "audioFormat": {"containerAudio": {"containerAudioType": "WAV"}},
            "languageRestriction": {"restrictionType": "WHITELIST", "languageCode": ["en-US"]},
        },
    }
    return json.dumps(body).encode()


def short_wav(source: Path, seconds: float, target: Path) -> Path:
    """The first `seconds` of `source`, as a WAV file at `target`."""
    with wave.open(str(source)) as wav:
        params = wav.getparams()
        frames = wav.readframes(int(params.framerate * seconds))
    with wave.open(str(target), "wb") as out:
        out.setparams(params)
        out.writeframes(frames)
    return target


def server_environment(quotas: bool) -> dict[str, str]:
    """The fake engine; quotas counted (each request pays for its count) but far above any phase's rate."""
    env = {"ASYNCSTT_ENGINE__KIND": "fake", "ASYNCSTT_EXECUTION__LOCAL_WORKERS": "1"}
    if quotas:
        env |= {
            "ASYNCSTT_IAM__QUOTAS__SUBMITS_PER_HOUR": str(10**9),
            "ASYNCSTT_IAM__QUOTAS__V2_POLLS_PER_HOUR": str(10**9),
            "ASYNCSTT_IAM__QUOTAS__V3_POLLS_PER_SECOND": str(10**6),
        }
    else:
        env["ASYNCSTT_IAM__QUOTAS__ENABLED"] = "false"
    return child_environment(env)


def done_operations(server: ServeProcess, audio: Path) -> dict[str, str]:
    """A finished v2 and v3 operation of `audio`, recognised by `server`: the operations that are polled."""
    operations = {}
    with server.client() as http:
        for kind, path, body in (
            ("v2", SUBMIT_PATH, v2_submit(audio)),
            ("v3", V3_SUBMIT_PATH, v3_submit(audio)),
        ):
            answer = http.post(path, content=body)
            answer.raise_for_status()
            operations[kind] = answer.json()["id"]
        deadline = time.monotonic() + 120
        for operation_id in operations.values():
            while not http.get(f"/operations/{operation_id}").json()["done"]:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"operation {operation_id} not done in 120 s")
                time.sleep(0.1)
    return operations


def running_operation(server: ServeProcess, audio: Path) -> str:
    """A v2 operation of `audio` that `server`'s dispatcher has claimed: it waits for workers that never come."""
    with server.client() as http:
        answer = http.post(SUBMIT_PATH, content=v2_submit(audio))
        answer.raise_for_status()
        operation_id: str = answer.json()["id"]
        deadline = time.monotonic() + 60
        while http.get(f"/operations/{operation_id}").json()["metadata"]["stage"] == "queued":
            if time.monotonic() > deadline:
                raise TimeoutError(f"operation {operation_id} not claimed in 60 s")
            time.sleep(0.1)
    return operation_id


@contextmanager
def api_process(
    root: Path, database: str, quotas: bool
) -> Iterator[tuple[ServeProcess, dict[str, str]]]:
    """An `asyncstt serve` as an API process of a deployment, with a done v2 and v3 operation in its store and
    a running v2 one.

    The operations are recognised by a first server with a local cluster. The measured server then works
    with a Dask scheduler that has no workers: its dispatcher claims a few of the submitted operations and
    waits for their slices, so no recognition and no dispatching competes with the requests for its CPU.
    """
    env = server_environment(quotas)
    database_args = ["--database", database] if database else []
    data = root / "data"
    data.mkdir(parents=True)
    first = ServeProcess(data_dir=data, env=env, args=database_args)
    key = first.api_key = first.create_key("bench", "sa-bench")
    first.start()
    try:
        operations = done_operations(first, JFK)
    finally:
        first.stop()
    cluster = DaskCluster(workdir=root / "dask", env=env, workers=0, preload=None)
    cluster.start()
    try:
        server = ServeProcess(
            data_dir=data, env=env, args=[*database_args, "--dask", cluster.address]
        )
        server.api_key = key
        server.start()
        try:
            operations["running"] = running_operation(server, JFK)
            yield server, operations
        finally:
            server.stop()
    finally:
        cluster.stop()


@dataclass(frozen=True)
class ApiRun:
    """The bounds of one run of `api_costs`."""

    polls: int
    submits: int
    seconds: float
    clients: int
    rate: float
    paced_polls: int


async def measure(
    phase: Phase, pid: int, idle_rate: float, run: Awaitable[tuple[list[float], Counter[int]]]
) -> Phase:
    """`phase` filled in with what running `run` (not yet started) cost the server with process id `pid`."""
    load_before = os.getloadavg()[0]
    cpu_before, client_before = process_cpu_seconds(pid), client_cpu_seconds()
    started = time.perf_counter()
    phase.latencies, phase.statuses = await run
    phase.wall_seconds = time.perf_counter() - started
    phase.cpu_seconds = process_cpu_seconds(pid) - cpu_before
    phase.client_cpu_seconds = client_cpu_seconds() - client_before
    phase.idle_cpu_seconds = idle_rate * phase.wall_seconds
    phase.requests = sum(phase.statuses.values())
    phase.loads = (load_before, os.getloadavg()[0])
    return phase


async def api_phases(
    server: ServeProcess, operations: dict[str, str], run: ApiRun, submit_audio: Path
) -> tuple[list[Phase], float]:
    """Warm every request up, measure the idle server, then each poll and submit closed-loop, then the
    polls paced at `run.rate`."""
    assert server.process is not None
    pid = server.process.pid
    v2, v3 = operations["v2"], operations["v3"]
    polls = [
        Request(
            "running v2 poll: GET /operations/{id}", "GET", f"/operations/{operations['running']}"
        ),
        Request("done v2 poll: GET /operations/{id}", "GET", f"/operations/{v2}"),
        Request("done v3 poll: GET /operations/{id}", "GET", f"/operations/{v3}"),
        Request("v3 GET /stt/v3/getRecognition", "GET", f"/stt/v3/getRecognition?operationId={v3}"),
    ]
    submits = [
        Request("v2 submit: longRunningRecognize", "POST", SUBMIT_PATH, v2_submit(submit_audio)),
        Request("v3 submit: recognizeFileAsync", "POST", V3_SUBMIT_PATH, v3_submit(submit_audio)),
    ]
    connections = [Connection("127.0.0.1", server.port, server.api_key) for _ in range(run.clients)]
    try:
        for request in polls + submits:
            _, statuses = await closed_loop(connections, request, WARM_UP, run.seconds)
            if set(statuses) != {200}:
                raise RuntimeError(f"{request.name}: answers {dict(statuses)} while warming up")
        before = process_cpu_seconds(pid)
        await asyncio.sleep(IDLE_SECONDS)
        idle_rate = (process_cpu_seconds(pid) - before) / IDLE_SECONDS
        phases = []
        for requests, count in ((polls, run.polls), (submits, run.submits)):
            for request in requests:
                phase = Phase(request.name, f"{run.clients} clients, closed loop")
                loop = closed_loop(connections, request, count, run.seconds)
                phases.append(await measure(phase, pid, idle_rate, loop))
        # The submits left their operations queued: the newest one waits behind all of them, and its poll
        # counts them for its place in the queue.
        _, answer = await connections[0].send(submits[0])
        queued = json.loads(answer)["id"]
        waiting = Request("queued v2 poll, last in the queue", "GET", f"/operations/{queued}")
        phase = Phase(waiting.name, f"{run.clients} clients, closed loop")
        loop = closed_loop(connections, waiting, run.polls, run.seconds)
        phases.append(await measure(phase, pid, idle_rate, loop))
        paced_phase = Phase("the four polls in turn", f"paced at {run.rate:g}/s")
        pace = paced(connections, polls, run.rate, run.paced_polls, run.seconds)
        phases.append(await measure(paced_phase, pid, idle_rate, pace))
    finally:
        for connection in connections:
            await connection.close()
    return phases, idle_rate


def api_section(args: argparse.Namespace, phases: list[Phase], idle_rate: float) -> list[str]:
    """This benchmark's section of bench/RESULTS.md: the setup, one row per phase, the targets."""
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()

    closed = [p for p in phases if p.mode.endswith("closed loop")]
    poll_cpu = _cpu_of([p for p in closed if "submit" not in p.name])
    submit_cpu = _cpu_of([p for p in closed if "submit" in p.name])
    paced_phase = phases[-1]
    p99 = percentile(sorted(paced_phase.latencies), 0.99) * 1000
    setup = (
        f"Command: `python3 -m bench.load api --polls {args.polls} --submits {args.submits} "
        f"--seconds {args.seconds:g} --clients {args.clients} --rate {args.rate:g}"
        f"{'' if args.quotas else ' --no-quotas'}{' --database URL' if args.database else ''}`. "
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, HEAD {head}. One `asyncstt serve` "
        f"({'PostgreSQL' if args.database else 'SQLite'}, quotas "
        f"{'counted, far above the rates sent' if args.quotas else 'off'}) as an API process: its Dask "
        "scheduler has no workers, so it recognises nothing while it is measured. Polls read an operation "
        "of jfk.wav (11 s) that the dispatcher has claimed (it waits for workers) and done ones (22 words); "
        f"submits carry {args.submit_seconds:g} s of it inline. The client "
        "(asyncio streams, one kept-alive connection each) runs on the same machine. API CPU per request "
        "is the server process's CPU time over the phase divided by the requests, less the idle "
        f"server's own ({idle_rate * 1000:.1f} ms per second); the paced phase's latencies run from the "
        "moment each poll was due. The last column is the 1-minute load average at the start and end."
    )
    verdict = (
        f"API CPU per poll {poll_cpu:.2f} ms (target <= {POLL_CPU_TARGET_MS:g} ms), per submit "
        f"{submit_cpu:.2f} ms (target <= {SUBMIT_CPU_TARGET_MS:g} ms); polls paced at {args.rate:g}/s: "
        f"p99 {p99:.1f} ms (target <= {POLL_P99_TARGET_MS:g} ms)."
    )
    return [
        HEADING,
        "",
        *textwrap.wrap(setup, WIDTH),
        "",
        "| request | clients | API CPU per request | requests and latency | client CPU | load avg |",
        "|---|---|---|---|---|---|",
        *(phase.row() for phase in phases),
        "",
        *textwrap.wrap(verdict, WIDTH),
    ]


def _cpu_of(phases: list[Phase]) -> float:
    spent = sum(p.cpu_seconds - p.idle_cpu_seconds for p in phases)
    return spent / max(sum(p.requests for p in phases), 1) * 1000


def api_costs(args: argparse.Namespace) -> int:
    """Start the server, run every phase, print the section (and write it with `--write`)."""
    run = ApiRun(args.polls, args.submits, args.seconds, args.clients, args.rate, args.paced_polls)
    with tempfile.TemporaryDirectory(prefix="asyncstt-load-") as tmp:
        root = Path(tmp)
        audio = short_wav(JFK, args.submit_seconds, root / "submit.wav")
        with api_process(root / "server", args.database, args.quotas) as (server, operations):
            phases, idle_rate = asyncio.run(api_phases(server, operations, run, audio))
    lines = api_section(args, phases, idle_rate)
    print("\n".join(lines))
    if args.write:
        update_section(HEADING, "\n".join(lines[1:]))
    return 0 if all(set(p.statuses) == {200} for p in phases) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--url", action="append", help="server URL of poll and submit (repeat for several)"
    )
    parser.add_argument("--api-key", default="", help="sent as 'Authorization: Api-Key <key>'")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument(
        "--requests", type=int, default=30_000, help="stop after this many (default 30000)"
    )
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="stop after this long (default 20)"
    )
    kinds = parser.add_subparsers(dest="kind", required=True)
    api = kinds.add_parser(
        "api", help="start a server and measure API CPU per poll and per submit, and paced polls"
    )
    api.add_argument("--polls", type=int, default=3000, help="polls of each kind (default 3000)")
    api.add_argument("--submits", type=int, default=600, help="submits of each kind (default 600)")
    api.add_argument("--seconds", type=float, default=30.0, help="bound of each phase (default 30)")
    api.add_argument("--clients", type=int, default=8, help="connections (default 8)")
    api.add_argument("--rate", type=float, default=300.0, help="paced polls per second (300)")
    api.add_argument(
        "--paced-polls", type=int, default=6000, help="polls of the paced phase (default 6000)"
    )
    api.add_argument(
        "--submit-seconds", type=float, default=1.0, help="audio inline in a submit (default 1)"
    )
    api.add_argument(
        "--no-quotas", dest="quotas", action="store_false", help="serve with quotas off"
    )
    api.add_argument("--database", default="", help="a PostgreSQL URL; default SQLite")
    api.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    poll = kinds.add_parser("poll", help="GET /operations/{id}")
    poll.add_argument("--operation", required=True, help="id of an existing operation")
    submit = kinds.add_parser("submit", help="POST a v2 longRunningRecognize with inline audio")
    submit.add_argument("--audio", type=Path, required=True, help="a small WAV file")
    submit.add_argument("--model", default="deferred-general", help="default deferred-general")
    words = list(sys.argv[1:] if argv is None else argv)
    if not set(words) & set(kinds.choices):
        words.insert(0, "api")
    args = parser.parse_args(words)
    if args.kind == "api":
        return api_costs(args)
    if not args.url:
        parser.error(f"{args.kind} needs --url")
    body = submit_body(args.audio, args.model) if args.kind == "submit" else None
    result = asyncio.run(
        load(
            args.url,
            args.api_key,
            args.kind,
            args.clients,
            args.requests,
            args.seconds,
            operation_id=getattr(args, "operation", ""),
            body=body,
        )
    )
    print(json.dumps(result.summary(), indent=2))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
