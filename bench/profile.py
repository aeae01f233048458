"""Where an operation's time goes, stage by stage, through `asyncstt serve` on embedded defaults.

    python3 -m bench.profile [--audio call|continuous|mono] [--seconds 840] [--files 1] [--workers 2] [--write]

Builds the audio from the repository's recordings (bench/material.py: a call whose channels take turns, two
channels of continuous speech, or one), starts `asyncstt serve` with its local Dask workers, recognises a
short warm-up file, then the file (or `--files` copies of it submitted at once, as many short files arrive),
and prints what the server's `asyncstt_operation_stage_seconds` metrics say of those operations: fetch, probe,
planning (reading the audio and its VAD on the run's thread), the wait for the first slice, decoding and the
engine on the workers (summed over slices), queueing and hand-off, checkpoint writes and assembly, with the
wall time, how busy the workers were ((decode + engine) / (wall x workers)) and the server's peak RSS.
`--write` records the table in bench/RESULTS.md, in this benchmark's own section.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from tests.support.audio import write_wav
from tests.support.serve import ServeProcess

from bench.material import call, continuous, continuous_stereo
from bench.measure import LoadWatch, PeakRss, machine, update_section
from bench.run import poll_pause, serving

SUBMIT = "/speech/stt/v2/longRunningRecognize"
HEADING = "## Where the time goes (bench/profile.py)"
STAGE_METRIC = "asyncstt_operation_stage_seconds"
#: The stages in the order an operation passes them, as the run reports them.
STAGES = (
    "fetch",
    "probe",
    "plan",
    "first_slice",
    "slice_decode",
    "slice_engine",
    "handoff",
    "checkpoints",
    "assembly",
    "run",
)


def stage_sums(server: ServeProcess) -> dict[str, float]:
    """Seconds summed over every operation the server has finished, by stage."""
    with server.client() as http:
        text = http.get("/metrics").text
    sums = dict.fromkeys(STAGES, 0.0)
    for family in text_string_to_metric_families(text):
        if family.name != STAGE_METRIC:
            continue
        for sample in family.samples:
            if sample.name == f"{STAGE_METRIC}_sum":
                sums[sample.labels["stage"]] = sample.value
    return sums


def recognise_all(server: ServeProcess, paths: list[Path], timeout: float) -> None:
    """Submit every file at once, then wait for all of them."""
    with server.client() as http:
        pending = []
        for path in paths:
            body = {
                "config": {"specification": {"languageCode": "en-US"}},
                "audio": {"uri": path.as_uri()},
            }
            response = http.post(SUBMIT, json=body)
            response.raise_for_status()
            pending.append(response.json()["id"])
        submitted = time.monotonic()
        last: dict[str, Any] = {}
        while pending:
            waited = time.monotonic() - submitted
            if waited > timeout:
                raise TimeoutError(f"{len(pending)} operation(s) not done after {timeout:.0f} s")
            time.sleep(poll_pause(last, waited))
            for operation_id in list(pending):
                operation = http.get(f"/operations/{operation_id}").json()
                if operation.get("done"):
                    if "error" in operation:
                        raise RuntimeError(f"{operation_id}: {operation['error']}")
                    pending.remove(operation_id)
                else:
                    last = operation


def build(root: Path, audio: str, seconds: float) -> Path:
    if audio == "call":
        channels = [channel.samples for channel in call(seconds)]
    elif audio == "continuous":
        channels = [channel.samples for channel in continuous_stereo(seconds)]
    else:
        channels = [continuous(seconds, 0).samples]
    return write_wav(root / f"{audio}-{seconds:g}s.wav", channels, 16000)


def table(
    stages: dict[str, float], wall: float, workers: int, files: int, peak: float, load: str
) -> str:
    lines = [
        "| stage | seconds | share of wall time |",
        "|---|---:|---:|",
        *(
            f"| {stage} | {stages[stage]:.3f} | {100 * stages[stage] / wall:.1f} % |"
            for stage in STAGES
        ),
    ]
    busy = (stages["slice_decode"] + stages["slice_engine"]) / (wall * workers)
    lines += [
        "",
        f"Wall time submit -> done: {wall:.2f} s for {files} operation(s); workers busy {100 * busy:.0f} % "
        f"of {workers} x {wall:.2f} s; peak RSS of the server's process tree {peak:.2f} GiB; "
        f"load (start / mean / max) {load}.",
        "Slice stages are summed over slices, which run on the workers in parallel.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--audio", choices=("call", "continuous", "mono"), default="call")
    parser.add_argument("--seconds", type=float, default=840.0, help="length of the file")
    parser.add_argument("--files", type=int, default=1, help="copies submitted at once")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--write", action="store_true", help="record the table in bench/RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        path = build(root, args.audio, args.seconds)
        warm = build(root, "mono", 5.0)
        with serving(root, args.workers) as server:
            recognise_all(server, [warm], 300)
            before = stage_sums(server)
            assert server.process is not None
            rss, load = PeakRss(server.process.pid), LoadWatch()
            with rss.watch(), load.watch():
                started = time.perf_counter()
                recognise_all(server, [path] * args.files, args.timeout)
                wall = time.perf_counter() - started
            after = stage_sums(server)
    stages = {stage: after[stage] - before[stage] for stage in STAGES}
    what = f"{args.files} x {args.audio} of {args.seconds:g} s, {args.workers} worker(s)"
    body = f"{what}, {machine()}.\n\n" + table(
        stages, wall, args.workers, args.files, rss.gib, load.text()
    )
    body += f"\nEach process's own peak RSS (the API process first): {rss.breakdown()}.\n"
    body += f"Each process's CPU time over the run, in the same order: {rss.cpu_breakdown()}.\n"
    print(body)
    if args.write:
        update_section(HEADING, body)


if __name__ == "__main__":
    main()
