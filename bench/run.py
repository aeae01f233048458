"""Benchmarks of the whole service on this machine; writes bench/RESULTS.md.

    python bench/run.py [--quick]

1. Engine alone vs the service end to end (submit -> done over HTTP) on the same mono file, one worker.
2. Throughput on a stereo file of >= 10 minutes with 1 and with 2 worker processes.
3. Peak memory (RSS of the server and its workers together) while it recognises a 1-hour stereo file.

Audio is built from the reference recordings (jfk.wav, LibriVox utterances), so nothing large is committed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.audio import read_wav_mono, write_wav  # noqa: E402
from tests.support.wer import LIBRIVOX  # noqa: E402

from asyncstt.audio.decode import decode_channel  # noqa: E402
from asyncstt.audio.probe import probe  # noqa: E402
from asyncstt.clock import utcnow  # noqa: E402
from asyncstt.engines.faster_whisper import FasterWhisperEngine  # noqa: E402
from asyncstt.iam.api_keys import create_api_key  # noqa: E402
from asyncstt.recognition import AudioEncoding  # noqa: E402
from asyncstt.server.process import Server, free_port  # noqa: E402
from asyncstt.settings import (  # noqa: E402
    EngineSettings,
    ExecutionSettings,
    FileSourceSettings,
    GrpcSettings,
    LimitSettings,
    Settings,
)

EXAMPLES = ROOT / "examples"


def speech_material() -> list[np.ndarray]:
    recordings = [read_wav_mono(EXAMPLES / "jfk.wav")]
    recordings += [read_wav_mono(path) for path in sorted(LIBRIVOX.glob("*.wav"))]
    pause = np.zeros(8000, dtype=np.float32)
    return [np.concatenate([r, pause]) for r in recordings]


def build_channel(seconds: float, offset: int) -> np.ndarray:
    material = speech_material()
    pieces, total, n = [], 0, offset
    while total < seconds * 16000:
        piece = material[n % len(material)]
        pieces.append(piece)
        total += len(piece)
        n += 1
    return np.concatenate(pieces)[: int(seconds * 16000)]


@dataclass
class PeakRss:
    """Samples the RSS of this process tree's server part (the process and all its children)."""

    peak: int = 0

    @contextmanager
    def watch(self) -> Iterator[PeakRss]:
        stop = threading.Event()
        me = psutil.Process()

        def sample() -> None:
            while not stop.wait(0.2):
                total = 0
                for process in [me, *me.children(recursive=True)]:
                    with suppress(psutil.Error):
                        total += process.memory_info().rss
                self.peak = max(self.peak, total)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()


def engine_seconds(path: Path) -> float:
    """The engine alone, one thread, on the whole file decoded beforehand."""
    info = probe(path, AudioEncoding.WAV, 16000, 1, LimitSettings())
    samples = decode_channel(path, info, 0, 0.0, None)
    engine = FasterWhisperEngine(EngineSettings())
    engine.recognise(samples[:16000], "en-US")
    started = time.perf_counter()
    engine.recognise(samples, "en-US")
    return time.perf_counter() - started


def service_seconds(
    path: Path, workers: int, data_dir: Path, slice_seconds: float = 120.0
) -> float:
    """Submit -> done through the HTTP API of an embedded server with `workers` Dask worker processes."""
    settings = Settings(
        data_dir=data_dir,
        port=free_port(),
        grpc=GrpcSettings(port=0),
        file_sources=FileSourceSettings(root=path.parent),
        execution=ExecutionSettings(
            local_workers=workers, slice_seconds=slice_seconds, poll_interval_seconds=0.05
        ),
    )
    with Server(settings) as server:
        _, key = create_api_key(server.components.identity, "bench", "bench", utcnow())
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Api-Key {key}"}, timeout=60
        ) as client:
            warm = write_short(path.parent)
            run_once(client, warm)
            started = time.perf_counter()
            run_once(client, path)
            return time.perf_counter() - started


def write_short(directory: Path) -> Path:
    short = directory / "warm.wav"
    if not short.exists():
        write_wav(short, [read_wav_mono(EXAMPLES / "jfk.wav")], 16000)
    return short


def run_once(client: httpx.Client, path: Path) -> None:
    body = {"config": {"specification": {"languageCode": "en-US"}}, "audio": {"uri": path.as_uri()}}
    operation = client.post("/speech/stt/v2/longRunningRecognize", json=body).json()
    while not operation.get("done"):
        time.sleep(0.05)
        operation = client.get(f"/operations/{operation['id']}").json()
    if "error" in operation:
        raise RuntimeError(operation["error"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="shorter files, for a smoke run")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        mono = work / "mono.wav"
        mono_seconds = 120.0 * max(scale, 0.5)
        write_wav(mono, [build_channel(mono_seconds, 0)], 16000)
        engine = engine_seconds(mono)
        service = service_seconds(mono, 1, work / "d1", slice_seconds=10_000)
        overhead = (service - engine) / engine * 100
        rows.append(
            (
                f"engine alone, {mono_seconds:.0f} s mono, 1 thread",
                f"{engine:.1f} s",
                f"RTF {engine / mono_seconds:.3f}",
            )
        )
        rows.append(
            (
                "service submit -> done, same file, 1 worker",
                f"{service:.1f} s",
                f"overhead {overhead:+.1f} % (target <= 5 %)",
            )
        )

        stereo_seconds = 600.0 * scale
        stereo = work / "stereo.wav"
        write_wav(
            stereo, [build_channel(stereo_seconds, 0), build_channel(stereo_seconds, 3)], 16000
        )
        one = service_seconds(stereo, 1, work / "s1")
        two = service_seconds(stereo, 2, work / "s2")
        rows.append(
            (
                f"{stereo_seconds / 60:.0f} min stereo, 1 worker",
                f"{one:.1f} s",
                f"{stereo_seconds / one:.1f}x real time per channel",
            )
        )
        rows.append(
            (
                f"{stereo_seconds / 60:.0f} min stereo, 2 workers",
                f"{two:.1f} s",
                f"{stereo_seconds / two:.1f}x real time per channel (target >= 30x); speed-up {one / two:.2f}x (target >= 1.8x)",
            )
        )

        hour = 3600.0 * scale
        long_stereo = work / "hour.wav"
        write_wav(long_stereo, [build_channel(hour, 0), build_channel(hour, 3)], 16000)
        rss = PeakRss()
        with rss.watch():
            long_time = service_seconds(long_stereo, 2, work / "h2")
        rows.append(
            (
                f"{hour / 60:.0f} min stereo, 2 workers",
                f"{long_time:.1f} s",
                f"peak RSS {rss.peak / 1024**3:.2f} GiB, server + workers (target <= 1 GiB)",
            )
        )

    lines = [
        "# Benchmark results",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 1024**3:.0f} GiB, Python {platform.python_version()}; "
        f"`python bench/run.py{' --quick' if args.quick else ''}`. Engine: faster-whisper tiny.en int8, beam 5.",
        "",
        "| what | time | figure |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
    ]
    output = ROOT / "bench" / ("RESULTS.quick.md" if args.quick else "RESULTS.md")
    output.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
