"""A bounded HTTP load tool for asyncstt's API, on loopback only.

    python bench/load.py --url http://127.0.0.1:8000 --api-key KEY poll --operation ID
    python bench/load.py --url http://127.0.0.1:8000 --url http://127.0.0.1:8001 --api-key KEY \\
        submit --audio short.wav --model deferred-general

N concurrent clients (asyncio tasks sharing one connection pool per URL, spread over the URLs in turn) send
requests until either `--requests` have been sent or `--seconds` have passed, whichever comes first. It reports
requests per second, latency percentiles and the count of each HTTP status (transport errors count as status 0).
The client is Python too and shares the machine's cores with the server: its own CPU time is reported so that a
reader can tell when the client, not the server, was the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

#: Hosts the tool agrees to load: it is a benchmark, not a way to flood someone else's server.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SUBMIT_PATH = "/speech/stt/v2/longRunningRecognize"

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--url", action="append", required=True, help="server URL (repeat for several)"
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
    poll = kinds.add_parser("poll", help="GET /operations/{id}")
    poll.add_argument("--operation", required=True, help="id of an existing operation")
    submit = kinds.add_parser("submit", help="POST a v2 longRunningRecognize with inline audio")
    submit.add_argument("--audio", type=Path, required=True, help="a small WAV file")
    submit.add_argument("--model", default="deferred-general", help="default deferred-general")
    args = parser.parse_args(argv)
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
