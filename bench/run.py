"""The service against the bare engine on this machine; each part updates its own section of bench/RESULTS.md.

    python bench/run.py [--parts single,throughput,memory,scaling] [--rounds 3] [--quick]

- single: the 2-minute mono file, submit -> done through `asyncstt serve` (embedded defaults) against
  faster-whisper's BatchedInferencePipeline alone on the same file (bench/engine.py), with both word error rates.
- throughput: a >= 10-minute stereo file of continuous speech (different recordings on the two channels) and a
  >= 14-minute call (the channels take turns), through the service with 1 and with 2 workers, against the
  batched engine alone on each channel as its own mono file.
- memory: peak RSS of the whole server process tree (API, dispatcher, workers) on a 4-hour stereo call.
- scaling: the throughput files through the service with 1 and with 2 workers in `--rounds` alternating rounds,
  each round's speed-up and their median: one run of each moves by a tenth from run to run on 2 cores, which
  decides alone whether it clears 1.8x. Not among the default parts (about 10 minutes).

The service runs as its own `asyncstt serve` process (tests/support/serve.py), so that its memory is measured
apart from the benchmark's. Every row carries the machine's 1-minute load average while it was measured.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.audio import write_wav  # noqa: E402
from tests.support.environment import child_environment  # noqa: E402
from tests.support.serve import ServeProcess  # noqa: E402
from tests.support.wer import word_errors, words  # noqa: E402

from bench.engine import batched_engine_seconds  # noqa: E402
from bench.material import Channel, call, continuous, continuous_stereo  # noqa: E402
from bench.measure import LoadWatch, PeakRss, machine, update_section  # noqa: E402

SUBMIT = "/speech/stt/v2/longRunningRecognize"
#: A benchmark client polls as a patient one would, and still sees the end within 50 ms: at first every 1/20th
#: of the time waited so far, at most every half second, and every 50 ms once 90 % of the audio is done. Polled
#: every 50 ms throughout, a 35 s operation cost the API process a second of CPU, which it takes from the
#: workers on the cores they share.
POLL_SHORTEST_SECONDS = 0.05
POLL_LONGEST_SECONDS = 0.5
POLL_SHARE_OF_WAIT = 1 / 20
POLL_OFTEN_FROM = 0.9
PARTS = ("single", "throughput", "memory")
EXTRA_PARTS = ("scaling",)
HEADINGS = {
    "single": "## Service against the bare engine: one mono file",
    "throughput": "## Service against the bare engine: stereo throughput",
    "memory": "## Peak memory on a 4-hour stereo file",
    "scaling": "## 1 -> 2 workers in alternating rounds",
}


@dataclass(frozen=True)
class ServiceRun:
    seconds: float
    #: Recognised text per channel tag.
    texts: dict[str, str]
    peak_rss_gib: float
    load: str
    #: Each process's own peak (the API process first, then the workers and the resource tracker, largest first).
    peak_rss_each: str = ""


@contextmanager
def serving(
    root: Path, workers: int, settings: dict[str, str] | None = None
) -> Iterator[ServeProcess]:
    """`asyncstt serve` on embedded defaults, `workers` Dask workers, `file://` links under `root`, no quotas,
    and any other `settings` (environment variables)."""
    data = root / f"serve-{workers}-{time.monotonic_ns()}"
    data.mkdir()
    env = child_environment(
        {
            "ASYNCSTT_FILE_SOURCES__ROOT": str(root),
            "ASYNCSTT_EXECUTION__LOCAL_WORKERS": str(workers),
            "ASYNCSTT_IAM__QUOTAS__ENABLED": "false",
            **(settings or {}),
        }
    )
    server = ServeProcess(data, env, [])
    server.start()
    server.api_key = server.create_key()
    try:
        yield server
    finally:
        server.stop()


def poll_pause(operation: dict[str, Any], waited: float) -> float:
    """Seconds to wait before polling `operation` (its last REST body) again, `waited` seconds after submit."""
    metadata = operation.get("metadata") or {}
    total = float(metadata.get("totalSeconds") or 0.0)
    processed = float(metadata.get("processedSeconds") or 0.0)
    if total and processed >= POLL_OFTEN_FROM * total:
        return POLL_SHORTEST_SECONDS
    return min(max(waited * POLL_SHARE_OF_WAIT, POLL_SHORTEST_SECONDS), POLL_LONGEST_SECONDS)


def recognise(server: ServeProcess, path: Path, timeout: float) -> dict[str, str]:
    """Submit one v2 operation for the WAV file `path` and wait for it; the text per channel tag (1-based)."""
    body = {
        "config": {"specification": {"languageCode": "en-US"}},
        "audio": {"uri": path.as_uri()},
    }
    with server.client() as http:
        operation = http.post(SUBMIT, json=body).json()
        submitted = time.monotonic()
        while not operation.get("done"):
            waited = time.monotonic() - submitted
            if waited > timeout:
                raise TimeoutError(f"{path.name} was not recognised in {timeout:.0f} s")
            time.sleep(poll_pause(operation, waited))
            operation = http.get(f"/operations/{operation['id']}").json()
    if "error" in operation:
        raise RuntimeError(f"{path.name}: {operation['error']}")
    texts: dict[str, list[str]] = {}
    for chunk in operation["response"]["chunks"]:
        texts.setdefault(chunk["channelTag"], []).append(chunk["alternatives"][0]["text"])
    return {tag: " ".join(parts) for tag, parts in texts.items()}


def service_run(
    root: Path,
    path: Path,
    workers: int,
    warm: Path,
    timeout: float,
    settings: dict[str, str] | None = None,
) -> ServiceRun:
    with serving(root, workers, settings) as server:
        recognise(server, warm, 120)
        assert server.process is not None
        rss = PeakRss(server.process.pid)
        load = LoadWatch()
        with rss.watch(), load.watch():
            started = time.perf_counter()
            texts = recognise(server, path, timeout)
            seconds = time.perf_counter() - started
        return ServiceRun(seconds, texts, rss.gib, load.text(), rss.breakdown())


def wer(hypothesis: str, reference: str) -> float:
    return 100.0 * word_errors(hypothesis, reference) / max(len(words(reference)), 1)


def write_channels(path: Path, channels: tuple[Channel, ...]) -> Path:
    return write_wav(path, [channel.samples for channel in channels], 16000)


@dataclass(frozen=True)
class BareRun:
    seconds: float
    texts: list[str]
    load: str


def bare_engine(root: Path, name: str, channels: tuple[Channel, ...]) -> BareRun:
    """The batched engine alone on each channel as its own mono file, one after the other."""
    load = LoadWatch()
    seconds, texts = 0.0, []
    with load.watch():
        for index, channel in enumerate(channels):
            mono = write_wav(root / f"{name}-channel-{index}.wav", [channel.samples], 16000)
            took, text = batched_engine_seconds(mono)
            seconds += took
            texts.append(text)
    return BareRun(seconds, texts, load.text())


def single(root: Path, scale: float, warm: Path) -> str:
    seconds = 120.0 * max(scale, 0.25)
    channel = continuous(seconds, 0)
    mono = write_channels(root / "mono.wav", (channel,))
    length = len(channel.samples) / 16000
    bare = bare_engine(root, "mono", (channel,))
    service = service_run(root, mono, 2, warm, timeout=600)
    target = 1.05 * bare.seconds + 0.3
    rows = [
        f"| batched engine alone | {bare.seconds:.1f} s, {length / bare.seconds:.0f}x real time | "
        f"WER {wer(bare.texts[0], channel.text):.1f} % | {bare.load} |",
        f"| service, submit -> done, 2 workers | {service.seconds:.1f} s, {length / service.seconds:.0f}x "
        f"real time (target <= {target:.1f} s: 1.05 x engine + 0.3 s) | "
        f"WER {wer(service.texts.get('1', ''), channel.text):.1f} % | {service.load} |",
    ]
    return table(f"{length:.0f} s of read speech, mono", rows)


def throughput_files(scale: float) -> dict[str, tuple[Channel, ...]]:
    return {
        "continuous speech": continuous_stereo(600 * scale),
        "call, channels take turns": call(840 * scale, seed=3),
    }


def throughput(root: Path, scale: float, warm: Path) -> str:
    rows = []
    for name, channels in throughput_files(scale).items():
        slug = name.split()[0].strip(",")
        path = write_channels(root / f"{slug}.wav", channels)
        length = len(channels[0].samples) / 16000
        bare = bare_engine(root, slug, channels)
        runs = {workers: service_run(root, path, workers, warm, timeout=3600) for workers in (1, 2)}
        bare_wer = mean(wer(text, ch.text) for text, ch in zip(bare.texts, channels, strict=True))
        rows.append(
            f"| {name}, {length / 60:.1f} min stereo: batched engine alone, each channel as a mono file | "
            f"{bare.seconds:.1f} s, {2 * length / bare.seconds:.0f}x real time per channel | "
            f"WER {bare_wer:.1f} % | {bare.load} |"
        )
        for workers, run in runs.items():
            run_wer = mean(
                wer(run.texts.get(str(tag), ""), ch.text)
                for tag, ch in enumerate(channels, start=1)
            )
            ratio = (2 * length / run.seconds) / (2 * length / bare.seconds)
            extra = f"; 1 -> 2 workers {runs[1].seconds / run.seconds:.2f}x" if workers == 2 else ""
            rows.append(
                f"| {name}: service, {workers} worker{'s' if workers > 1 else ''} | {run.seconds:.1f} s, "
                f"{2 * length / run.seconds:.0f}x real time per channel, {ratio:.2f} x the engine alone"
                f"{extra}; peak RSS {run.peak_rss_gib:.2f} GiB | WER {run_wer:.1f} % | {run.load} |"
            )
    return table("Continuous speech and a call, stereo", rows)


def scaling(root: Path, scale: float, warm: Path, rounds: int) -> str:
    """Each round runs 1 and 2 workers on the same file, the order turned every round so that a drift in the
    machine's speed weighs on both alike."""
    rows = []
    for name, channels in throughput_files(scale).items():
        path = write_channels(root / f"scaling-{name.split()[0].strip(',')}.wav", channels)
        ratios, runs = [], []
        for round_ in range(rounds):
            order = (1, 2) if round_ % 2 == 0 else (2, 1)
            took = {
                workers: service_run(root, path, workers, warm, timeout=3600) for workers in order
            }
            ratios.append(took[1].seconds / took[2].seconds)
            runs.append(
                f"{took[1].seconds:.1f} / {took[2].seconds:.1f} s: {ratios[-1]:.2f}x "
                f"(load {took[1].load}; {took[2].load})"
            )
        rows.append(
            f"| {name} | {'<br>'.join(runs)} | {statistics.median(ratios):.2f}x "
            f"({min(ratios):.2f}-{max(ratios):.2f}x) |"
        )
    return table(
        f"{rounds} rounds, 1 worker / 2 workers, submit -> done",
        rows,
        columns="| file | each round: 1 worker / 2 workers, speed-up (load) | median speed-up (range) |",
    )


def memory(root: Path, scale: float, warm: Path) -> str:
    seconds = 4 * 3600.0 * scale
    channels = call(seconds, seed=4)
    path = write_channels(root / "four-hours.wav", channels)
    length = len(channels[0].samples) / 16000
    # The default limit is 4 h of audio summed over channels: a 4-hour stereo file holds 8.
    limit = {"ASYNCSTT_LIMITS__MAX_DURATION_SECONDS": str(2 * seconds + 600)}
    run = service_run(root, path, 2, warm, timeout=4 * 3600, settings=limit)
    rows = [
        f"| {length / 3600:.2f} h stereo call, 2 workers, the duration limit raised to hold both channels | peak RSS {run.peak_rss_gib:.2f} GiB of the whole server "
        f"process tree (target <= 1 GiB; each process's peak: "
        f"{run.peak_rss_each}); {run.seconds:.0f} s, {2 * length / run.seconds:.0f}x real time per "
        f"channel | {run.load} |"
    ]
    return table(
        "Memory on a 4-hour file", rows, columns="| measurement | figure | load avg 1 min |"
    )


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items)


def table(title: str, rows: list[str], columns: str = "") -> str:
    header = columns or "| measurement | figure | accuracy | load avg 1 min (start / mean / max) |"
    separator = "|" + "---|" * (header.count("|") - 1)
    return "\n".join([f"### {title}", "", header, separator, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}"
    )
    parser.add_argument(
        "--quick", action="store_true", help="files a tenth as long, for a smoke run"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of the scaling part (default 3)"
    )
    args = parser.parse_args()
    chosen = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = sorted(set(chosen) - set(PARTS) - set(EXTRA_PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}; choose from {', '.join(PARTS + EXTRA_PARTS)}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    scale = 0.1 if args.quick else 1.0
    builders: dict[str, Callable[[Path, float, Path], str]] = {
        "single": single,
        "throughput": throughput,
        "memory": memory,
        "scaling": functools.partial(scaling, rounds=args.rounds),
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warm = write_channels(root / "warm.wav", (continuous(10, 0),))
        for part in chosen:
            started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            body = builders[part](root, scale, warm)
            heading = (
                f"Measured {started} on {machine()}; `python bench/run.py --parts {part}"
                f"{f' --rounds {args.rounds}' if part == 'scaling' else ''}"
                f"{' --quick' if args.quick else ''}`; engine as `asyncstt serve` runs it on its defaults."
            )
            text = f"{body}\n\n{heading}"
            print(text, flush=True)
            if not args.quick:
                update_section(HEADINGS[part], text)


if __name__ == "__main__":
    main()
