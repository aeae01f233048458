"""Speaker labeling: how many words get the right speaker, and how much time labeling adds to recognition.

    python bench/speakers.py [--slice-seconds 6 120] [--seconds 0] [--write]

Three mono recordings: the two-speaker conversation of tests/support/conversation.py (39 s, five turns) and
two one-speaker ones (jfk.wav; the LibriVox reader's five utterances, 25 s). Each is planned as the dispatcher
plans it (`--slice-seconds` each, in turn) and recognised slice by slice in this process with the real engine,
as a worker does (`pipeline/task.py`), once without and once with speaker labeling, then assembled. Reported per
recording and slice length: the share of words labelled with their speaker (the better of the two ways to match
the labels), the speakers found and the cosine similarity of the two voice centroids behind the one-voice
decision (`speakers/clustering.py`), the seconds recognition takes without labeling, and the seconds labeling
adds (the run with labeling minus the run without; the speaker encoder's own seconds beside it, which vary less
with the machine's load), all with one BLAS thread, as a Dask worker has. `--seconds` keeps only that much of each recording (a smoke test); `--write` puts the
table into bench/RESULTS.md under its own heading.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# One BLAS thread, as in a Dask worker (its nanny sets it), before numpy loads: the encoder's small matrix
# products slow down many times over when BLAS threads fight for the cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.audio import Samples, read_wav_mono, write_wav  # noqa: E402
from tests.support.conversation import (  # noqa: E402
    READER,
    Turn,
    conversation,
    joined,
    reader_pieces,
    word_accuracy,
)

from asyncstt.audio.probe import AudioInfo, probe  # noqa: E402
from asyncstt.pipeline.assemble import assemble  # noqa: E402
from asyncstt.pipeline.plan import Planning, SliceSpec  # noqa: E402
from asyncstt.pipeline.planner import plan  # noqa: E402
from asyncstt.pipeline.task import SliceJob, SliceResult, recognise_slice  # noqa: E402
from asyncstt.recognition import AudioEncoding, RecognitionSpec, Transcript  # noqa: E402
from asyncstt.settings import Settings  # noqa: E402
from asyncstt.speakers import encoder as encoder_module  # noqa: E402
from asyncstt.speakers.clustering import two_voices  # noqa: E402
from bench.measure import LoadWatch, machine, update_section  # noqa: E402

HEADING = "## Speaker labeling"


@dataclass(frozen=True)
class Recording:
    name: str
    samples: Samples
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class Figures:
    recording: str
    slice_seconds: float
    slices: int
    accuracy: float
    speakers: int
    similarity: float
    recognition: float
    labeling: float
    encoder: float


def recordings(seconds: float) -> list[Recording]:
    examples = ROOT / "examples"
    talk = conversation(examples)
    reader = joined([(READER, piece) for piece in reader_pieces()])
    jfk = read_wav_mono(examples / "jfk.wav")
    found = [
        Recording("two speakers, five turns", talk.samples, talk.turns),
        Recording("one speaker (LibriVox reader)", reader.samples, reader.turns),
        Recording("one speaker (jfk.wav)", jfk, (Turn(0.0, len(jfk) / 16000, READER),)),
    ]
    if seconds <= 0:
        return found
    keep = round(seconds * 16000)
    return [Recording(r.name, r.samples[:keep], r.turns) for r in found]


@contextmanager
def encoder_clock() -> Iterator[list[float]]:
    """Seconds spent in the speaker encoder while the block runs."""
    spent: list[float] = []
    original = encoder_module.SpeakerEncoder.embed

    def timed(
        self: encoder_module.SpeakerEncoder, pieces: Sequence[Samples]
    ) -> encoder_module.Embeddings:
        started = time.perf_counter()
        try:
            return original(self, pieces)
        finally:
            spent.append(time.perf_counter() - started)

    encoder_module.SpeakerEncoder.embed = timed  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        encoder_module.SpeakerEncoder.embed = original  # type: ignore[method-assign]


def recognise(
    path: Path, info: AudioInfo, slices: list[SliceSpec], labeling: bool, settings: Settings
) -> tuple[Transcript, list[SliceResult], float]:
    spec = RecognitionSpec(
        language="en-US", audio_encoding=AudioEncoding.WAV, speaker_labeling=labeling
    )
    started = time.perf_counter()
    results = [
        recognise_slice(SliceJob("bench", str(path), info, item, spec, "en-US", settings.engine))
        for item in slices
    ]
    transcript = assemble(results, info, info.duration_seconds)
    return transcript, results, time.perf_counter() - started


def measure(recording: Recording, slice_seconds: float, workdir: Path) -> Figures:
    settings = Settings()
    path = write_wav(workdir / "recording.wav", [recording.samples], 16000)
    info = probe(path, AudioEncoding.WAV, 16000, 1, settings.limits)
    planning = Planning(
        slice_seconds, min(settings.execution.snap_window_seconds, slice_seconds / 4), True
    )
    slices = [item for item in plan(path, info, planning) if isinstance(item, SliceSpec)]
    _, _, plain = recognise(path, info, slices, False, settings)
    with encoder_clock() as spent:
        transcript, results, labelled = recognise(path, info, slices, True, settings)
    windows = [w for r in results if r.voices is not None for w in r.voices.windows]
    similarity = 1.0
    if windows:
        _, similarity = two_voices(
            np.array([w.embedding for w in windows], np.float32),
            np.array([w.seconds for w in windows]),
        )
    return Figures(
        recording=recording.name,
        slice_seconds=slice_seconds,
        slices=len(slices),
        accuracy=word_accuracy(transcript.utterances, recording.turns),
        speakers=transcript.channels,
        similarity=similarity,
        recognition=plain,
        labeling=labelled - plain,
        encoder=sum(spent),
    )


def table(figures: list[Figures], load: LoadWatch) -> str:
    lines = [
        f"Machine: {machine()}; load (1 min, start / mean / max): {load.text()}. "
        "Run: `python bench/speakers.py --write`.",
        "",
        "| recording | slice s | slices | words right | speakers | centroid cosine | recognition s | "
        "labeling adds s (%) | encoder s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        share = 100 * f.labeling / f.recognition if f.recognition else 0.0
        lines.append(
            f"| {f.recording} | {f.slice_seconds:g} | {f.slices} | {100 * f.accuracy:.1f} % | "
            f"{f.speakers} | {f.similarity:.3f} | {f.recognition:.2f} | "
            f"{f.labeling:.2f} ({share:.0f} %) | {f.encoder:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice-seconds", type=float, nargs="+", default=[6.0, 120.0])
    parser.add_argument("--seconds", type=float, default=0.0, help="keep only this much of each")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    figures = []
    load = LoadWatch()
    with load.watch(), tempfile.TemporaryDirectory() as workdir:
        for slice_seconds in args.slice_seconds:
            for recording in recordings(args.seconds):
                figures.append(measure(recording, slice_seconds, Path(workdir)))
                print(figures[-1], file=sys.stderr)
    text = table(figures, load)
    print(text)
    if args.write:
        update_section(HEADING, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
