"""The service's engine under each decoder setting: the sequential decoder against batches of speech segments,
beam 1 against beam 5, one CPU thread against two, on one file, with word error rates. The figures the engine
defaults (docs/architecture.md, "Recognition speed") were chosen from.

    python3 -m bench.decoding --audio F.wav --reference ref.txt [--batch-sizes 4,8,16] [--threads 1,2]

Each row is one recognition of the whole mono file by `FasterWhisperEngine` (model loaded and warmed first,
untimed), as a worker recognises one slice.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.audio import read_wav_mono  # noqa: E402

from asyncstt.engines.base import SAMPLE_RATE  # noqa: E402
from asyncstt.engines.faster_whisper import FasterWhisperEngine  # noqa: E402
from asyncstt.settings import EngineSettings  # noqa: E402
from bench.engine import wer  # noqa: E402


@dataclass(frozen=True)
class Row:
    settings: EngineSettings
    seconds: float
    audio_seconds: float
    wer: float

    def line(self) -> str:
        decoder = (
            f"batch {self.settings.batch_size}" if self.settings.batch_size > 1 else "sequential"
        )
        return (
            f"| {decoder} | {self.settings.beam_size} | {self.settings.cpu_threads} | "
            f"{self.seconds:.2f} s | {self.audio_seconds / self.seconds:.1f}x | {self.wer:.1f} % |"
        )


def grid(
    batch_sizes: Sequence[int], beams: Sequence[int], threads: Sequence[int]
) -> Iterator[EngineSettings]:
    """The sequential decoder and each batch size, at each beam and thread count."""
    for thread_count in threads:
        for beam in beams:
            for batch in (0, *batch_sizes):
                yield EngineSettings(batch_size=batch, beam_size=beam, cpu_threads=thread_count)


def sweep(audio: Path, reference: str, settings: Sequence[EngineSettings]) -> Iterator[Row]:
    samples = read_wav_mono(audio)
    for each in settings:
        engine = FasterWhisperEngine(each)
        engine.recognise(samples[: 5 * SAMPLE_RATE], "en-US")
        started = time.perf_counter()
        segments = engine.recognise(samples, "en-US")
        took = time.perf_counter() - started
        text = " ".join(word.text for segment in segments for word in segment.words)
        yield Row(each, took, len(samples) / SAMPLE_RATE, wer(text, reference))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python3 -m bench.decoding", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--audio", type=Path, required=True, help="a mono 16-bit PCM WAV file")
    parser.add_argument("--reference", type=Path, required=True, help="what was said")
    parser.add_argument("--batch-sizes", default="4,8,16")
    parser.add_argument("--beams", default="1,5")
    parser.add_argument("--threads", default="1,2")
    arguments = parser.parse_args(argv)
    settings = list(
        grid(
            [int(n) for n in arguments.batch_sizes.split(",")],
            [int(n) for n in arguments.beams.split(",")],
            [int(n) for n in arguments.threads.split(",")],
        )
    )
    print(f"{arguments.audio}")
    print("| decoder | beam | threads | time | real time | WER |")
    print("|---|---|---|---|---|---|")
    for row in sweep(arguments.audio, arguments.reference.read_text(encoding="utf-8"), settings):
        print(row.line(), flush=True)


if __name__ == "__main__":
    main()
