"""The bare engine the service is compared against: faster-whisper's BatchedInferencePipeline alone, as the
fastest self-hosted peer runs it, with the service's model and beam, each channel given as its own mono file.

    python3 -m bench.engine --audio F.wav [--reference ref.txt ...] [--threads 2] [--batch-size 8]

Prints, per channel, the seconds the pipeline took from the mono file to the last word (decoding the file
included, loading the model not), how many times real time that is, and the word error rate against the
reference of that channel (`--reference` once per channel, in order) where one is given.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.wer import word_errors, words  # noqa: E402

from asyncstt.engines.whisper_model import model_dir  # noqa: E402
from asyncstt.settings import EngineSettings  # noqa: E402

#: The peer's batch size, as speaches runs it, whatever the service's own.
PEER_BATCH_SIZE = 8
#: Threads the bare engine runs on: both cores of the benchmark machine.
THREADS = 2


@dataclass(frozen=True)
class BareEngine:
    """How the bare pipeline runs: the service's model and beam by default, `threads` CPU threads."""

    model: Path
    beam_size: int
    batch_size: int
    threads: int = THREADS

    @classmethod
    def like_the_service(
        cls, settings: EngineSettings | None = None, threads: int = THREADS
    ) -> BareEngine:
        engine = settings or EngineSettings()
        return cls(model_dir(engine), engine.beam_size, PEER_BATCH_SIZE, threads)


@dataclass(frozen=True)
class ChannelRun:
    """One channel through the bare pipeline."""

    seconds: float
    audio_seconds: float
    text: str

    @property
    def real_time(self) -> float:
        """How many times faster than real time the channel was recognised."""
        return self.audio_seconds / self.seconds if self.seconds > 0 else float("inf")


def split_channels(path: Path, directory: Path) -> list[Path]:
    """`path` (16-bit PCM WAV) as one mono WAV per channel in `directory`; a mono file stands as it is."""
    with wave.open(str(path)) as source:
        channels, rate, width = source.getnchannels(), source.getframerate(), source.getsampwidth()
        frames = source.readframes(source.getnframes())
    if channels == 1:
        return [path]
    if width != 2:
        raise ValueError(f"{path}: only 16-bit PCM WAV is split into channels, not {8 * width}-bit")
    interleaved = np.frombuffer(frames, "<i2").reshape(-1, channels)
    paths = []
    for index in range(channels):
        mono = directory / f"{path.stem}-channel-{index + 1}.wav"
        with wave.open(str(mono), "wb") as target:
            target.setnchannels(1)
            target.setsampwidth(2)
            target.setframerate(rate)
            target.writeframes(np.ascontiguousarray(interleaved[:, index]).tobytes())
        paths.append(mono)
    return paths


def run_channels(paths: Sequence[Path], engine: BareEngine) -> list[ChannelRun]:
    """Each mono file through one loaded BatchedInferencePipeline, timed from the file to the last word."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel
    from faster_whisper.audio import decode_audio

    model = WhisperModel(
        str(engine.model), device="cpu", compute_type="int8", cpu_threads=engine.threads
    )
    pipeline = BatchedInferencePipeline(model)
    # Untimed: the first call loads the VAD model and warms CTranslate2, which a serving peer has done already.
    warm, _ = pipeline.transcribe(decode_audio(str(paths[0]))[: 5 * 16000], language="en")
    list(warm)
    runs = []
    for path in paths:
        started = time.perf_counter()
        audio = decode_audio(str(path))
        segments, _ = pipeline.transcribe(
            audio,
            language="en",
            beam_size=engine.beam_size,
            batch_size=engine.batch_size,
            word_timestamps=True,
            vad_filter=True,
        )
        text = " ".join(str(segment.text).strip() for segment in segments)
        runs.append(ChannelRun(time.perf_counter() - started, len(audio) / 16000, text))
    return runs


def bare_engine(path: Path, engine: BareEngine | None = None) -> list[ChannelRun]:
    """Every channel of the WAV file `path` through the bare pipeline, each as its own mono file."""
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as directory:
        return run_channels(
            split_channels(path, Path(directory)), engine or BareEngine.like_the_service()
        )


def batched_engine_seconds(path: Path) -> tuple[float, str]:
    """The bare pipeline's seconds and text for the mono WAV file `path`, as bench/run.py compares them."""
    (run,) = bare_engine(path)
    return run.seconds, run.text


def wer(hypothesis: str, reference: str) -> float:
    """Word error rate in percent."""
    return 100.0 * word_errors(hypothesis, reference) / max(len(words(reference)), 1)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python3 -m bench.engine", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--audio", type=Path, required=True, help="a 16-bit PCM WAV file")
    parser.add_argument(
        "--reference",
        type=Path,
        action="append",
        default=[],
        help="what was said in a channel (repeat once per channel, in order)",
    )
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--beam-size", type=int, default=None)
    arguments = parser.parse_args(argv)
    like = BareEngine.like_the_service(threads=arguments.threads)
    engine = BareEngine(
        like.model,
        arguments.beam_size or like.beam_size,
        arguments.batch_size or like.batch_size,
        like.threads,
    )
    print(
        f"faster-whisper BatchedInferencePipeline alone: {engine.model}, int8, "
        f"beam {engine.beam_size}, batch {engine.batch_size}, {engine.threads} threads"
    )
    runs = bare_engine(arguments.audio, engine)
    references = [path.read_text(encoding="utf-8") for path in arguments.reference]
    for index, run in enumerate(runs):
        line = (
            f"channel {index + 1}: {run.seconds:.2f} s for {run.audio_seconds:.1f} s of audio, "
            f"{run.real_time:.1f}x real time"
        )
        if index < len(references):
            line += f", WER {wer(run.text, references[index]):.1f} %"
        print(line)
    print(f"all channels: {sum(run.seconds for run in runs):.2f} s")


if __name__ == "__main__":
    main()
